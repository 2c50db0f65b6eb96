from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"

    def ready(self) -> None:
        from hub.attention import register_charts, register_figures
        from providers.attention import providers_figures, providers_charts
        from hub.metrics import register_scrape_collector
        from providers import config  # noqa: F401  (registers the production check of provider secrets)
        from providers.calls import register_provider_senders
        from providers.metrics import collect

        register_provider_senders()
        register_scrape_collector(collect)
        register_figures(providers_figures)
        register_charts(providers_charts)
