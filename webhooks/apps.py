from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self) -> None:
        from hub.attention import register_charts, register_figures
        from webhooks.attention import outbox_figures, outbox_charts
        from hub.metrics import register_scrape_collector
        from webhooks.metrics import collect
        from webhooks.nudges import install_trigger

        register_scrape_collector(collect)
        install_trigger()  # the outbox's delivery trigger: one per process, built here, not at import
        register_figures(outbox_figures)
        register_charts(outbox_charts)
