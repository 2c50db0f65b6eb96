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
from providers import openapi
from providers.adapters import ADAPTERS
from providers.adapters.base import Context
from providers.auth import client_ip
from providers.decision_input import decision_command
from providers.decisions import order_decide
from providers.answers import intake_response
from providers.intake import Inbound, intake_receive
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


class OrderDecisionApi(APIView):
    """POST /api/orders/<id>/accept|reject|ready|picked-up from the restaurant backend (SPEC §7b)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @openapi.order_decision
    def post(self, request: Request, order_id: str, action: str) -> JsonResponse:
        given = request.headers.get("X-AUTH", "").encode()
        if not hmac.compare_digest(given, settings.BACKEND_CALLBACK_KEY.encode()):
            raise errors.Unauthorized()
        command = decision_command(action, request.body)
        result = order_decide(order_id=order_id, action=action, decided_by="backend", **command)
        body = {"orderId": str(result.order_id), "action": result.action, "status": result.status, "call": result.call}
        if result.duplicate:
            return JsonResponse({**body, "duplicate": True}, status=200)
        return JsonResponse(body, status=202)
