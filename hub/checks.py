"""Refuse unsafe production configuration.

Registered as a Django system check (so `manage.py` commands report it) and also enforced
by `hub.wsgi` and the Celery worker and beat at start, because gunicorn and Celery do not
run system checks on their own.
"""

from django.conf import settings
from django.core import checks
from django.core.management.base import SystemCheckError

TAG = "hub_settings"
DEMO_MARKER = "dev-insecure"


def is_demo_secret(value: str, dev_default: str) -> bool:
    parts = [part.strip() for part in value.split(",")]
    return not value.strip() or DEMO_MARKER in value or dev_default in parts


def production_problems() -> list[str]:
    if not settings.PRODUCTION:
        return []
    problems = []
    if settings.DEBUG:
        problems.append("DEBUG is on (unset DJANGO_DEBUG).")
    if settings.ROOT_URLCONF != "hub.urls":
        problems.append("HUB_ROOT_URLCONF is set (benchmark endpoints); unset it.")
    for name, dev_default in settings.DEV_DEFAULT_SECRETS.items():
        value = getattr(settings, name, "")
        text = ",".join(value) if isinstance(value, (list, tuple)) else str(value)
        if is_demo_secret(text, dev_default):
            problems.append(f"{name} is empty or a demo secret; set a real one.")
    return problems


@checks.register(TAG, checks.Tags.security)
def check_production_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return [checks.Error(problem, id=f"hub.E{n:03d}") for n, problem in enumerate(production_problems(), 1)]


def enforce_safe_settings() -> None:
    """Raise at process start when the production settings are unsafe."""
    failures = [message for message in checks.run_checks(tags=[TAG]) if message.is_serious()]
    if failures:
        lines = "\n".join(f"{message.id}: {message.msg}" for message in failures)
        raise SystemCheckError(f"Refusing to start with unsafe production settings:\n{lines}")
