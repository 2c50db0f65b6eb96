from datetime import UTC, datetime

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub import health


class HealthApi(APIView):
    """Liveness for load balancers: 503 only when the database is down.

    A broker outage is reported but keeps 200: outbound work is stored in the database
    and the beat sweep delivers it once the broker is back.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

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
