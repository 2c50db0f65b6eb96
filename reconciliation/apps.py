from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"

    def ready(self) -> None:
        from hub.attention import register_figures
        from reconciliation.attention import reconciliation_figures
        from hub.metrics import register_scrape_collector
        from reconciliation.metrics import collect

        register_scrape_collector(collect)
        register_figures(reconciliation_figures)
