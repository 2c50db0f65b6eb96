import pytest

from webhooks.tests.factories import DestinationFactory
from hub.testing import mock_http


@pytest.fixture
def operator(settings):
    """The Operator's wallet API at http://operator.test, answering what a test scripts (responses);
    the RGS destination exists so settlements can enqueue their webhook."""
    settings.OPERATOR_BASE_URL = "http://operator.test"
    settings.OPERATOR_RETRY_DEADLINE_SECONDS = 2
    DestinationFactory(name="rgs")
    with mock_http(assert_all_requests_are_fired=False) as mock:
        yield mock
