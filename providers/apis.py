"""Provider webhook endpoints (SPEC §7). Thin: collect the request, call the intake service."""

import hmac
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from hub import errors
from hub.json_input import clean_text
from hub.machine_api import MachineApi
from hub.signing import secret_list
from providers import openapi
from providers.adapters import ADAPTERS
from providers.adapters.base import Context
from providers.auth import client_ip
from providers.decision_input import decision_command
from providers.decisions import order_decide
from providers.answers import intake_response
from providers.intake import Inbound, intake_receive
from providers.availability import availability_command, availability_set, status_command, store_status_set
from providers.locations import location_command, location_register
from providers.request_body import json_object
from providers.menu_document import MenuErrors
from providers.menus import UnknownLocation, location_syncs, menu_publish
from providers.models import Location
from providers.selectors import inbound_counts_by_outcome


def _inbound(request: HttpRequest, provider: str, route: str, context: Context | None = None) -> Inbound:
    try:
        body, too_large = request.body, False
    except RequestDataTooBig:
        body, too_large = b"", True
    address = client_ip(remote_addr=request.META.get("REMOTE_ADDR", ""),
                        forwarded_for=request.headers.get("X-Forwarded-For", ""), trusted_proxies=settings.TRUSTED_PROXIES)
    return Inbound(
        provider=provider, route=route, method=request.method or "POST", path=request.path, headers=request.headers,
        body=body, client_address=address, too_large=too_large,
        declared_size=int(request.META.get("CONTENT_LENGTH") or 0) if too_large else 0,
        context=context or Context(), correlation_id=getattr(request, "correlation_id", ""),
    )


def _respond(inbound: Inbound) -> HttpResponse:
    return intake_response(intake_receive(inbound))


class IntakeApi(MachineApi):
    """A provider's webhook: `intake_receive` checks the provider's signature or credentials itself."""


class ProviderWebhookApi(IntakeApi):
    @openapi.provider_webhook
    def post(self, request: HttpRequest, provider: str) -> HttpResponse:
        return _respond(_inbound(request, provider, "generic"))


class TalabatDispatchApi(IntakeApi):
    @openapi.talabat_dispatch
    def post(self, request: HttpRequest, remote_id: str) -> HttpResponse:
        return _respond(_inbound(request, "talabat", "dispatch", Context(branch_id=clean_text(remote_id))))


class TalabatCatalogApi(IntakeApi):
    @openapi.talabat_catalog
    def post(self, request: HttpRequest) -> HttpResponse:
        return _respond(_inbound(request, "talabat", "catalog"))


class TalabatStatusApi(IntakeApi):
    @openapi.talabat_status
    def put(self, request: HttpRequest, remote_id: str, remote_order_id: str) -> HttpResponse:
        context = Context(branch_id=clean_text(remote_id), remote_order_id=clean_text(remote_order_id))
        return _respond(_inbound(request, "talabat", "status", context))


class WebhookStatsApi(APIView):
    """Counts by outcome over the last 24 h: a staff session allowed to view inbound webhooks, or
    `Authorization: Bearer WEBHOOK_STATS_TOKEN`."""

    permission_classes = [AllowAny]

    @openapi.stats
    def get(self, request: Request, provider: str) -> JsonResponse:
        token = settings.WEBHOOK_STATS_TOKEN
        bearer = request.headers.get("Authorization", "")
        by_token = bool(token) and hmac.compare_digest(bearer.encode(), f"Bearer {token}".encode())
        if not by_token and not (request.user and request.user.is_authenticated and request.user.is_staff):
            raise errors.Unauthorized()
        if not by_token and not request.user.has_perm("providers.view_inboundwebhook"):
            raise errors.Forbidden("Reading the intake statistics needs the view permission on inbound webhooks.")
        if provider not in ADAPTERS:
            raise errors.NotFound("Unknown provider.")
        since = timezone.now() - timedelta(hours=24)
        counts = inbound_counts_by_outcome(provider=provider, since=since)
        return JsonResponse({"provider": provider, "since": since.isoformat(), "total": sum(counts.values()),
                             "byOutcome": counts})


class InvalidMenu(errors.Unprocessable):
    code = "INVALID_MENU"
    message = "The menu has problems; details.errors lists every one."


def _backend_authenticated(request: Request) -> None:
    """`X-AUTH`: any of BACKEND_CALLBACK_KEY's comma-separated keys (a rotation: the current and the next),
    each compared in constant time, every one compared; 401 otherwise."""
    given = request.headers.get("X-AUTH", "").encode()
    matches = [hmac.compare_digest(given, key.encode()) for key in secret_list(settings.BACKEND_CALLBACK_KEY)]
    if not any(matches):
        raise errors.Unauthorized()


class OrderDecisionApi(APIView):
    """POST /api/orders/<id>/accept|reject|ready|picked-up from the restaurant backend (SPEC §7b)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @openapi.order_decision
    def post(self, request: Request, order_id: str, action: str) -> JsonResponse:
        _backend_authenticated(request)
        command = decision_command(action, request.body)
        result = order_decide(order_id=order_id, action=action, decided_by="backend", **command)
        body = {"orderId": str(result.order_id), "action": result.action, "status": result.status, "call": result.call}
        if result.duplicate:
            return JsonResponse({**body, "duplicate": True}, status=200)
        return JsonResponse(body, status=202)


class LocationApi(APIView):
    """PUT /api/locations/<id>: the restaurant backend registers a site and its branches (SPEC §7c)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @openapi.location_register
    def put(self, request: Request, location_id: str) -> JsonResponse:
        _backend_authenticated(request)
        location, created = location_register(location_id=location_id, command=location_command(request.body))
        branches = [{"provider": provider, "externalId": external_id}
                    for provider, external_id in location.branches.order_by("provider__name")
                    .values_list("provider__name", "external_id")]
        return JsonResponse({"id": location.id, "name": location.name, "branches": branches},
                            status=201 if created else 200)


class MenuApi(APIView):
    """PUT /api/locations/<id>/menu: the location's master menu, published to each of its providers."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @openapi.menu_publish
    def put(self, request: Request, location_id: str) -> JsonResponse:
        _backend_authenticated(request)
        try:
            published = menu_publish(location_id=location_id, payload=json_object(request.body))
        except MenuErrors as exc:
            raise InvalidMenu(details={"errors": exc.errors}) from exc
        body = {"menuVersion": published.version, "syncs": [
            {"provider": sync["provider"], "status": sync["status"]} for sync in published.syncs]}
        return JsonResponse(body, status=202 if published.changed else 200)


class AvailabilityApi(APIView):
    """POST /api/locations/<id>/availability: items made unavailable (until a time) or available again."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @openapi.location_availability
    def post(self, request: Request, location_id: str) -> JsonResponse:
        _backend_authenticated(request)
        changes = availability_command(json_object(request.body))
        queued = availability_set(location_id=location_id, changes=changes)
        return JsonResponse({"locationId": location_id, "items": len(changes), "providers": queued}, status=202)


class StoreStatusApi(APIView):
    """PUT /api/locations/<id>/status: open, closed, or paused until a time, at every provider."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @openapi.location_status
    def put(self, request: Request, location_id: str) -> JsonResponse:
        _backend_authenticated(request)
        command = status_command(json_object(request.body))
        queued = store_status_set(location_id=location_id, command=command)
        return JsonResponse({"locationId": location_id, "status": command.status,
                             "until": command.until.isoformat() if command.until else None, "providers": queued},
                            status=202)


class LocationSyncApi(APIView):
    """GET /api/locations/<id>/sync: per provider, the version it has, the sync's status, errors, next send."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @openapi.location_sync
    def get(self, request: Request, location_id: str) -> JsonResponse:
        _backend_authenticated(request)
        location = Location.objects.filter(id=location_id).first()
        if location is None:
            raise UnknownLocation()
        latest = location.menu_versions.order_by("-version").values_list("version", flat=True).first()
        return JsonResponse({"locationId": location.id, "menuVersion": latest, "syncs": location_syncs(location)})
