"""Which fakes exist and how each is built from settings."""

from collections.abc import Callable

from django.conf import settings

from hub.signing import secret_list
from mock_services.backend import BackendMock
from mock_services.framework import MockService
from mock_services.operator import OperatorMock
from mock_services.rgs import RgsMock

MOCKS: dict[str, Callable[[], MockService]] = {
    "operator": lambda: OperatorMock(api_key=settings.OPERATOR_API_KEY),
    "rgs": lambda: RgsMock(secrets=secret_list(settings.RGS_WEBHOOK_SECRET)),
    "backend": lambda: BackendMock(api_key=settings.BACKEND_API_KEY),
}
DEFAULT_PORTS = {"operator": 8001, "rgs": 8002, "backend": 8003}
