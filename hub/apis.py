from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub import health, metrics

HEALTH = inline_serializer("Health", {
    "status": serializers.ChoiceField(["ok", "degraded", "unavailable"]), "timestamp": serializers.DateTimeField(),
    "uptime": serializers.FloatField(), "database": serializers.ChoiceField(["connected", "unreachable"]),
    "broker": serializers.ChoiceField(["connected", "unreachable"]),
})


class HealthApi(APIView):
    """Liveness for load balancers: 503 only when the database is down.

    A broker outage is reported but keeps 200: outbound work is stored in the database
    and the beat sweep delivers it once the broker is back.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="health", tags=["operations"], responses={
        200: OpenApiResponse(HEALTH, description="Database up (status ok, or degraded when the broker is down)"),
        503: OpenApiResponse(HEALTH, description="Database unreachable"),
    })
    def get(self, request: Request) -> Response:
        database = health.database_status()
        broker = health.broker_status()
        healthy = database == "connected"
        body = {
            "status": ("ok" if broker == "connected" else "degraded") if healthy else "unavailable",
            "timestamp": datetime.now(UTC).isoformat(),
            "uptime": health.uptime_seconds(),
            "database": database,
            "broker": broker,
        }
        return Response(body, status=200 if healthy else 503)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; keep it on the internal network (it needs no secret to read)."""
    return HttpResponse(metrics.scrape(), content_type=CONTENT_TYPE_LATEST)


class ReadinessApi(APIView):
    """For orchestrators: 503 unless both the database and the broker answer."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="health_ready", tags=["operations"], responses={200: HEALTH, 503: HEALTH})
    def get(self, request: Request) -> Response:
        database, broker = health.database_status(), health.broker_status()
        ready = database == broker == "connected"
        body = {"status": "ok" if ready else "unavailable", "timestamp": datetime.now(UTC).isoformat(),
                "uptime": health.uptime_seconds(), "database": database, "broker": broker}
        return Response(body, status=200 if ready else 503)
