from django.urls import re_path

from providers.apis import AvailabilityApi, LocationApi, LocationSyncApi, MenuApi, StoreStatusApi

LOCATION = r"(?P<location_id>[^/]{1,100})"

urlpatterns = [
    re_path(rf"^{LOCATION}/?$", LocationApi.as_view(), name="location"),
    re_path(rf"^{LOCATION}/menu/?$", MenuApi.as_view(), name="location-menu"),
    re_path(rf"^{LOCATION}/sync/?$", LocationSyncApi.as_view(), name="location-sync"),
    re_path(rf"^{LOCATION}/availability/?$", AvailabilityApi.as_view(), name="location-availability"),
    re_path(rf"^{LOCATION}/status/?$", StoreStatusApi.as_view(), name="location-status"),
]
