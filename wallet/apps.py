from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"

    def ready(self) -> None:
        from hub.attention import register_charts, register_figures
        from wallet.attention import wallet_figures, wallet_charts
        from hub.metrics import register_scrape_collector
        from wallet.metrics import collect

        register_scrape_collector(collect)
        register_figures(wallet_figures)
        register_charts(wallet_charts)
