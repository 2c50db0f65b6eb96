from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from hub.metrics import register_scrape_collector
        from webhooks.metrics import collect
        from webhooks.nudges import install_trigger

        register_scrape_collector(collect)
        install_trigger()  # the outbox's delivery trigger: one per process, built here, not at import
