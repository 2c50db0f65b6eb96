import io
import json
import logging
import uuid

import pytest
import structlog

from hub.logs import SHARED_PROCESSORS

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log_lines():
    """Root-logger output rendered exactly as in production, one parsed dict a line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, structlog.processors.JSONRenderer()],
            foreign_pre_chain=SHARED_PROCESSORS,
        )
    )
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_given_correlation_id_is_echoed_and_logged(client, json_log_lines):
    answer = client.get("/health", HTTP_X_CORRELATION_ID="rgs-req-42")

    assert answer["X-Correlation-ID"] == "rgs-req-42"
    access = [line for line in json_log_lines() if line["event"] == "request"]
    assert access and access[-1]["correlation_id"] == "rgs-req-42"
    assert (access[-1]["path"], access[-1]["status"]) == ("/health", 200)


def test_a_missing_correlation_id_is_generated(client):
    generated = client.get("/health")["X-Correlation-ID"]

    assert str(uuid.UUID(generated)) == generated
    assert client.get("/health")["X-Correlation-ID"] != generated


@pytest.mark.parametrize("unsafe", ["has spaces", "x" * 129, "semi;colon", ""])
def test_an_unsafe_correlation_id_is_replaced_not_echoed(client, unsafe):
    echoed = client.get("/health", HTTP_X_CORRELATION_ID=unsafe)["X-Correlation-ID"]

    assert echoed != unsafe
    uuid.UUID(echoed)


def test_secrets_are_redacted_in_logs(json_log_lines):
    structlog.get_logger("test").info(
        "outbound", headers={"X-AUTH": "s3cret-key", "Accept": "json"}, webhook_signature="v1,abc", api_key="k-123"
    )

    line = json_log_lines()[-1]
    assert line["headers"] == {"X-AUTH": "[redacted]", "Accept": "json"}
    assert (line["webhook_signature"], line["api_key"]) == ("[redacted]", "[redacted]")
    assert "s3cret-key" not in json.dumps(line)
