from django.urls import re_path

from providers.apis import OrderDecisionApi

UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

urlpatterns = [
    re_path(rf"^(?P<order_id>{UUID})/(?P<action>accept|reject|ready|picked-up)/?$", OrderDecisionApi.as_view(),
            name="order-decision"),
]
