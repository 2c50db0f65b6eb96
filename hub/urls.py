from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub.apis import HealthApi, ReadinessApi, metrics_view
from hub.exception_handlers import json_not_found

admin.site.site_url = None  # the hub has no public site to link to

urlpatterns = [
    re_path(r"^health/?$", HealthApi.as_view(), name="health"),
    re_path(r"^health/ready/?$", ReadinessApi.as_view(), name="health-ready"),
    re_path(r"^metrics/?$", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("wallet/", include("wallet.urls")),
    path("api/webhooks/", include("providers.urls")),
    path("api/orders/", include("providers.order_urls")),
    path("api/locations/", include("providers.location_urls")),
    # Last: every other URL outside the admin answers the JSON 404, in DEBUG too (Django's debug page
    # is HTML, and `handler404` only serves when DEBUG is off).
    re_path(r"^(?!admin/).*$", json_not_found, name="not-found"),
]

handler404 = "hub.exception_handlers.json_not_found"
handler500 = "hub.exception_handlers.json_server_error"
