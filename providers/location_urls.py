from django.urls import re_path

from providers.apis import LocationApi, LocationSyncApi, MenuApi

LOCATION = r"(?P<location_id>[^/]{1,100})"

urlpatterns = [
    re_path(rf"^{LOCATION}/?$", LocationApi.as_view(), name="location"),
    re_path(rf"^{LOCATION}/menu/?$", MenuApi.as_view(), name="location-menu"),
    re_path(rf"^{LOCATION}/sync/?$", LocationSyncApi.as_view(), name="location-sync"),
]
