"""The hub's URLs plus the benchmark baseline (HUB_ROOT_URLCONF=bench.urls; never in production)."""

from django.urls import path

from bench.baseline import baseline_debit
from hub.urls import handler404, handler500  # noqa: F401
from hub.urls import urlpatterns as hub_urlpatterns

# Under /wallet/, so that the baseline passes the same middleware as a debit (hub.middleware.MACHINE_PATH).
urlpatterns = [path("wallet/__bench-baseline-debit", baseline_debit), *hub_urlpatterns]
