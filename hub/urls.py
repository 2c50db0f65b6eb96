from django.contrib import admin
from django.urls import include, path, re_path

from hub.apis import HealthApi, metrics_view

admin.site.site_url = None  # the hub has no public site to link to

urlpatterns = [
    re_path(r"^health/?$", HealthApi.as_view(), name="health"),
    re_path(r"^metrics/?$", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("wallet/", include("wallet.urls")),
    path("api/webhooks/", include("webhooks.urls")),
]

handler404 = "hub.exception_handlers.json_not_found"
handler500 = "hub.exception_handlers.json_server_error"
