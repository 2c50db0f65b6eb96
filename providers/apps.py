from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"

    def ready(self) -> None:
        from providers import config  # noqa: F401  (registers the production check of provider secrets)
