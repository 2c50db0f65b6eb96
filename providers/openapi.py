"""Provider webhook endpoints (SPEC §7) for the OpenAPI schema. Documentation only."""

from typing import Literal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from hub.openapi import error
from providers.adapters import ADAPTERS

HEADER: Literal["header"] = "header"
SIGNED_OVER = {"deliveroo": "its sequence GUID, a space and the raw body", "ubereats": "the raw body, keyed by the client secret"}


def auth_headers(*providers: str) -> list[OpenApiParameter]:
    """The credential headers of these providers, read from the adapters' registry: each one's hmac signature
    header, its api_key header, the jwt mode's bearer, and the header naming a delivery where it has one."""
    headers = []
    for name in providers:
        adapter = ADAPTERS[name]
        headers.append(OpenApiParameter(adapter.signature_header_name(), OpenApiTypes.STR, HEADER, required=False,
                                        description=f"{name}, hmac mode: lowercase hex HMAC-SHA256 of "
                                                    f"{SIGNED_OVER.get(name, 'the raw body')}."))
        headers.append(OpenApiParameter(f"x-{name}-api-key", OpenApiTypes.STR, HEADER, required=False,
                                        description=f"{name}, api_key mode."))
        if adapter.delivery_id_header:
            headers.append(OpenApiParameter(adapter.delivery_id_header, OpenApiTypes.STR, HEADER, required=False,
                                            description=f"{name}: the delivery's id, the same on its retries."))
    headers.append(OpenApiParameter("Authorization", OpenApiTypes.STR, HEADER, required=False,
                                    description="jwt mode (the Delivery Hero middleware): Bearer HS512 with "
                                                "service=middleware and exp."))
    return headers


TALABAT_AUTH = auth_headers("talabat")
ACCEPTED = inline_serializer("WebhookAccepted", {
    "success": serializers.BooleanField(), "webhookId": serializers.UUIDField(allow_null=True),
    "status": serializers.CharField(), "duplicate": serializers.BooleanField(required=False),
})
INVALID = inline_serializer("WebhookInvalid", {
    "success": serializers.BooleanField(),
    "errors": inline_serializer("WebhookError", {"field": serializers.CharField(), "message": serializers.CharField()},
                                many=True),
})
REJECTIONS = {
    400: error("MALFORMED_JSON (after valid authentication)"),
    401: error("UNAUTHORIZED: credentials, unknown branch, disabled provider or address not allowed"),
    404: error("NOT_FOUND: unknown provider"),
    413: error("PAYLOAD_TOO_LARGE: over 1 MiB"),
    422: OpenApiResponse(INVALID, description="Every validation error at once"),
    429: error("RATE_LIMITED (Retry-After)"),
}

provider_webhook = extend_schema(
    operation_id="provider_webhook", tags=["provider webhooks"], summary="An order webhook from a delivery provider",
    parameters=[OpenApiParameter("provider", OpenApiTypes.STR, OpenApiParameter.PATH, enum=sorted(ADAPTERS)),
                *auth_headers(*sorted(ADAPTERS))],
    request=OpenApiTypes.OBJECT,
    responses={200: OpenApiResponse(ACCEPTED, description=(
        "Accepted, or a duplicate of an accepted one. Uber Eats: an empty body (its order is fetched "
        "afterwards by the worker).")), **REJECTIONS},
)
talabat_dispatch = extend_schema(
    operation_id="talabat_order_dispatch", tags=["provider webhooks"], summary="Talabat plugin: order dispatch",
    parameters=TALABAT_AUTH, request=OpenApiTypes.OBJECT,
    responses={202: inline_serializer("TalabatDispatched", {"remoteOrderId": serializers.CharField()}), **REJECTIONS},
)
talabat_status = extend_schema(
    operation_id="talabat_pos_order_status", tags=["provider webhooks"], summary="Talabat plugin: order status",
    parameters=TALABAT_AUTH, request=OpenApiTypes.OBJECT, responses={200: ACCEPTED, **REJECTIONS},
)
talabat_catalog = extend_schema(
    operation_id="talabat_catalog_import_status", tags=["provider webhooks"],
    summary="Delivery Hero middleware: the result of a catalog import (the hub's menu publication)",
    description="{\"catalogImportId\", \"status\": in_progress | done | done_with_errors | failed, \"message\", \"details\"}",
    parameters=TALABAT_AUTH, request=OpenApiTypes.OBJECT, responses={200: ACCEPTED, **REJECTIONS},
)
stats = extend_schema(
    operation_id="provider_webhook_stats", tags=["provider webhooks"], summary="Counts by outcome, last 24 h",
    description="A staff session allowed to view inbound webhooks, or `Authorization: Bearer <WEBHOOK_STATS_TOKEN>`.",
    parameters=[OpenApiParameter("Authorization", OpenApiTypes.STR, HEADER, required=False,
                                 description="Bearer <WEBHOOK_STATS_TOKEN>, instead of a staff session.")],
    responses={200: OpenApiTypes.OBJECT, 401: error("staff session or Bearer WEBHOOK_STATS_TOKEN needed"),
               403: error("FORBIDDEN: a staff session without the view permission on inbound webhooks"),
               404: error("unknown provider")},
)
order_decision = extend_schema(
    operation_id="order_decision", tags=["order decisions"],
    summary="The restaurant's decision on an order, sent on to its provider (accept, reject, ready, picked-up)",
    description=("accept: {\"preparationMinutes\": 1-120 (optional)}; reject: {\"reason\": Delivery Hero code, "
                 "\"message\" (optional)}; ready and picked-up: no body. Auth: X-AUTH = BACKEND_CALLBACK_KEY."),
    parameters=[OpenApiParameter("X-AUTH", OpenApiTypes.STR, HEADER, required=True),
                OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH,
                                 enum=["accept", "reject", "ready", "picked-up"])],
    request=OpenApiTypes.OBJECT,
    responses={
        202: inline_serializer("DecisionQueued", {
            "orderId": serializers.UUIDField(), "action": serializers.CharField(), "status": serializers.CharField(),
            "call": serializers.ChoiceField(["queued", "not_applicable", "refused"])}),
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="The same action again: \"duplicate\": true, nothing sent"),
        400: error("VALIDATION_ERROR or MALFORMED_JSON"), 401: error("UNAUTHORIZED"), 404: error("ORDER_NOT_FOUND"),
        409: error("INVALID_TRANSITION"), 422: error("INVALID_REASON"),
    },
)
location_register = extend_schema(
    operation_id="location_register", tags=["locations"],
    summary="The restaurant backend registers a site and the provider branches it is (one per provider)",
    description=("{\"name\", \"branches\": [{\"provider\", \"externalId\"}]}: the branches listed become the "
                 "site's; those no longer listed are unlinked. Auth: X-AUTH = BACKEND_CALLBACK_KEY."),
    parameters=[OpenApiParameter("X-AUTH", OpenApiTypes.STR, HEADER, required=True)],
    request=OpenApiTypes.OBJECT,
    responses={
        201: inline_serializer("LocationRegistered", {
            "id": serializers.CharField(), "name": serializers.CharField(),
            "branches": inline_serializer("LocationBranch", {"provider": serializers.CharField(),
                                                             "externalId": serializers.CharField()}, many=True)}),
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="Updated: the same body as 201"),
        400: error("VALIDATION_ERROR or MALFORMED_JSON"), 401: error("UNAUTHORIZED"),
        422: error("INVALID_LOCATION: an unknown branch, or a provider named twice"),
    },
)
menu_publish = extend_schema(
    operation_id="location_menu", tags=["locations"],
    summary="The location's master menu, published to every provider branch of the location",
    description=("{\"currency\", \"menus\", \"categories\", \"items\", \"modifierGroups\", \"overrides\"}: "
                 "docs/INTEGRATION.md, Menus. Prices are integers in minor units. Auth: X-AUTH = BACKEND_CALLBACK_KEY."),
    parameters=[OpenApiParameter("X-AUTH", OpenApiTypes.STR, HEADER, required=True)],
    request=OpenApiTypes.OBJECT,
    responses={
        202: inline_serializer("MenuQueued", {
            "menuVersion": serializers.IntegerField(),
            "syncs": inline_serializer("MenuSyncState", {"provider": serializers.CharField(),
                                                         "status": serializers.CharField()}, many=True)}),
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="The same menu as the latest version: nothing sent"),
        400: error("VALIDATION_ERROR or MALFORMED_JSON"), 401: error("UNAUTHORIZED"),
        404: error("LOCATION_NOT_FOUND"), 413: error("PAYLOAD_TOO_LARGE: over 1 MiB"),
        422: error("INVALID_MENU: details.errors lists every problem (ids, prices, group rules, references)"),
    },
)
location_sync = extend_schema(
    operation_id="location_sync", tags=["locations"],
    summary="Per provider branch: the menu version sent and live, the sync's status, errors, the next allowed send",
    parameters=[OpenApiParameter("X-AUTH", OpenApiTypes.STR, HEADER, required=True)],
    responses={200: OpenApiTypes.OBJECT, 401: error("UNAUTHORIZED"), 404: error("LOCATION_NOT_FOUND")},
)
location_availability = extend_schema(
    operation_id="location_availability", tags=["locations"],
    summary="Items made unavailable (until a time, then available again by themselves) or available again",
    description="{\"items\": [{\"id\", \"available\": bool, \"until\": RFC 3339 | null}]}: sent to every provider of "
                "the location as small deltas within its limits. Auth: X-AUTH = BACKEND_CALLBACK_KEY.",
    parameters=[OpenApiParameter("X-AUTH", OpenApiTypes.STR, HEADER, required=True)], request=OpenApiTypes.OBJECT,
    responses={202: inline_serializer("AvailabilityQueued", {"locationId": serializers.CharField(),
                                                              "items": serializers.IntegerField(),
                                                              "providers": serializers.IntegerField()}),
               400: error("VALIDATION_ERROR or MALFORMED_JSON"), 401: error("UNAUTHORIZED"),
               404: error("LOCATION_NOT_FOUND"), 422: error("INVALID_AVAILABILITY: items not on the location's menu")},
)
location_status = extend_schema(
    operation_id="location_status", tags=["locations"],
    summary="The store open, closed, or paused until a time, at every provider (the hub reopens it then)",
    description="{\"status\": open | closed | paused, \"until\": RFC 3339 | null}. Auth: X-AUTH = BACKEND_CALLBACK_KEY.",
    parameters=[OpenApiParameter("X-AUTH", OpenApiTypes.STR, HEADER, required=True)], request=OpenApiTypes.OBJECT,
    responses={202: inline_serializer("StatusQueued", {"locationId": serializers.CharField(),
                                                        "status": serializers.CharField(),
                                                        "until": serializers.DateTimeField(allow_null=True),
                                                        "providers": serializers.IntegerField()}),
               400: error("VALIDATION_ERROR or MALFORMED_JSON"), 401: error("UNAUTHORIZED"),
               404: error("LOCATION_NOT_FOUND")},
)
