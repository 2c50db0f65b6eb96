from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from hub.metrics import register_scrape_collector
        from webhooks.metrics import collect

        register_scrape_collector(collect)
