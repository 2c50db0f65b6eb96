from django.apps import AppConfig


class ReconciliationConfig(AppConfig):
    name = "reconciliation"

    def ready(self) -> None:
        from hub.metrics import register_scrape_collector
        from reconciliation.metrics import collect

        register_scrape_collector(collect)
