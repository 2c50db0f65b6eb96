from django.urls import re_path

from providers.apis import ProviderWebhookApi, TalabatCatalogApi, TalabatDispatchApi, TalabatStatusApi, WebhookStatsApi

urlpatterns = [
    re_path(r"^stats/(?P<provider>[a-z0-9_-]+)/?$", WebhookStatsApi.as_view(), name="webhook-stats"),
    re_path(r"^talabat/catalog/?$", TalabatCatalogApi.as_view(), name="talabat-catalog"),
    re_path(r"^talabat/order/(?P<remote_id>[^/]+)/?$", TalabatDispatchApi.as_view(), name="talabat-dispatch"),
    re_path(r"^talabat/remoteId/(?P<remote_id>[^/]+)/remoteOrder/(?P<remote_order_id>[^/]+)/posOrderStatus/?$",
            TalabatStatusApi.as_view(), name="talabat-status"),
    re_path(r"^(?P<provider>[a-z0-9_-]+)/?$", ProviderWebhookApi.as_view(), name="provider-webhook"),
]
