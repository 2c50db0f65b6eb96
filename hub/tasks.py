from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task
def clear_expired_sessions() -> None:
    """Daily housekeeping: the database session backend never deletes old sessions itself."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
