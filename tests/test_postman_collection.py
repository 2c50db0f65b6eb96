"""The request collection (docs/postman) covers every wallet operation of the OpenAPI schema and the order loop,
and every request has tests: a call added to the API without one in the collection fails here. (CI runs
the collection itself with newman against `make run`.)"""

import json
import re
from pathlib import Path

import pytest

COLLECTION = Path(__file__).resolve().parent.parent / "docs" / "postman" / "integration-hub.postman_collection.json"


def requests_in(collection: dict) -> list[dict]:
    return [item for folder in collection["item"] for item in folder["item"]]


def template(url: str) -> str:
    """`{{baseUrl}}/wallet/rounds/round-{{runId}}?x=1` → `/wallet/rounds/{}`: the path, each variable part one `{}`."""
    path = re.sub(r"^\{\{\w+\}\}", "", url.split("?")[0])
    return "/".join("{}" if "{{" in part else part for part in path.split("/"))


@pytest.fixture(scope="module")
def collection() -> dict:
    return json.loads(COLLECTION.read_text())


def test_every_wallet_operation_of_the_schema_is_in_the_collection(client, collection):
    schema = client.get("/api/schema/?format=json").json()
    wallet = {(method.upper(), re.sub(r"\{\w+\}", "{}", path)) for path, operations in schema["paths"].items()
              if path.startswith("/wallet/") for method in operations}
    sent = {(item["request"]["method"], template(item["request"]["url"])) for item in requests_in(collection)}

    assert wallet <= sent, wallet - sent


def test_the_order_loop_is_in_the_collection(collection):
    sent = {(item["request"]["method"], template(item["request"]["url"])) for item in requests_in(collection)}

    assert {("POST", "/api/webhooks/careem"), ("POST", "/api/webhooks/talabat"), ("POST", "/api/orders/{}/accept"),
            ("POST", "/api/orders/{}/reject"), ("POST", "/api/orders/{}/ready")} <= sent


def test_every_request_has_tests_and_the_collection_signs(collection):
    untested = [item["name"] for item in requests_in(collection)
                if not any(event["listen"] == "test" and "pm.test(" in "\n".join(event["script"]["exec"])
                           for event in item.get("event", []))]
    signing = "\n".join(collection["event"][0]["script"]["exec"])

    assert untested == []
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert all(name in signing for name in ("X-Signature", "X-Timestamp", "Idempotency-Key", "x-careem-signature",
                                            "x-talabat-signature", "X-AUTH"))
