from django.apps import AppConfig
from django.conf import settings


def make_runtime_directories() -> None:
    """The embedded PostgreSQL's data, static files and the filesystem broker live under HUB_VAR_DIR: created when
    a process starts (Django's ready, or the Celery app before it sends or consumes), not by settings."""
    for directory in settings.RUNTIME_DIRECTORIES:
        directory.mkdir(parents=True, exist_ok=True)


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Integration Hub"

    def ready(self) -> None:
        from hub import checks  # noqa: F401  (registers the system checks)
        from hub.internals import cache_long_statements

        make_runtime_directories()
        cache_long_statements()
