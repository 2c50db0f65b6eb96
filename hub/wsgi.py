import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

application = get_wsgi_application()

from hub.checks import enforce_safe_settings  # noqa: E402  (needs the apps loaded)

enforce_safe_settings()
