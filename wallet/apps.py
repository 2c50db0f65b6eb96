from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"

    def ready(self) -> None:
        from hub.metrics import register_scrape_collector
        from wallet.metrics import collect

        register_scrape_collector(collect)
