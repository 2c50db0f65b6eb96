"""Which fakes exist and how each is built from settings."""

from collections.abc import Callable

from django.conf import settings

from hub.signing import secret_list
from mock_services.backend import BackendMock
from mock_services.deliveroo import DeliverooMock
from mock_services.delivery_providers import CareemMock, TalabatMock
from mock_services.framework import MockService
from mock_services.operator import OperatorMock
from mock_services.rgs import RgsMock
from mock_services.ubereats import UberEatsMock

MOCKS: dict[str, Callable[[], MockService]] = {
    "operator": lambda: OperatorMock(api_key=settings.OPERATOR_API_KEY),
    "rgs": lambda: RgsMock(secrets=secret_list(settings.RGS_WEBHOOK_SECRET)),
    "backend": lambda: BackendMock(api_key=settings.BACKEND_API_KEY),
    "careem": lambda: CareemMock(
        credentials={"client_id": settings.CAREEM_CLIENT_ID, "client_secret": settings.CAREEM_CLIENT_SECRET},
        token_seconds=settings.MOCK_PROVIDER_TOKEN_SECONDS),
    "talabat": lambda: TalabatMock(
        credentials={"username": settings.TALABAT_MIDDLEWARE_USERNAME, "password": settings.TALABAT_MIDDLEWARE_PASSWORD},
        token_seconds=settings.MOCK_PROVIDER_TOKEN_SECONDS),
    "deliveroo": lambda: DeliverooMock(
        credentials={"client_id": settings.DELIVEROO_CLIENT_ID, "client_secret": settings.DELIVEROO_CLIENT_SECRET},
        token_seconds=settings.MOCK_PROVIDER_TOKEN_SECONDS),
    "ubereats": lambda: UberEatsMock(
        credentials={"client_id": settings.UBEREATS_CLIENT_ID,
                     "client_secret": secret_list(settings.UBEREATS_CLIENT_SECRET)[0]},  # "new,old" in a rotation
        token_seconds=settings.MOCK_PROVIDER_TOKEN_SECONDS),
}
DEFAULT_PORTS = {"operator": 8001, "rgs": 8002, "backend": 8003, "careem": 8004, "talabat": 8005, "deliveroo": 8006,
                 "ubereats": 8007}
