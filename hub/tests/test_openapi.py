import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_schema_covers_the_wallet_and_intake_with_every_error_code(client):
    answer = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert answer.status_code == 200
    schema = answer.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    debit = paths["/wallet/debit"]["post"]
    assert set(debit["responses"]) == {"201", "400", "401", "402", "404", "409", "413", "422", "502", "503"}
    assert {p["name"] for p in debit["parameters"]} >= {"X-Timestamp", "X-Signature", "Idempotency-Key"}
    debit_body = schema["components"]["schemas"]["WalletDebitRequestRequest"]
    credit_body = schema["components"]["schemas"]["WalletCreditRequestRequest"]
    assert debit_body["properties"]["amountCents"]["type"] == "integer" and set(debit_body["required"]) == {
        "playerId", "amountCents", "currency", "refId"}
    assert set(credit_body["properties"]) - set(debit_body["properties"]) == {"betRefId", "kind"}
    assert debit_body["properties"]["roundClosed"]["type"] == "boolean"
    assert credit_body["properties"]["kind"]["allOf"] == [{"$ref": "#/components/schemas/CreditKindEnum"}]
    assert schema["components"]["schemas"]["CreditKindEnum"]["enum"] == ["WIN", "BONUS", "JACKPOT", "PROMO",
                                                                          "ADJUSTMENT"]
    assert set(paths["/wallet/rounds/{round_id}"]["get"]["responses"]) == {"200", "401", "404", "503"}
    assert set(paths["/api/webhooks/{provider}"]["post"]["responses"]) == {"200", "400", "401", "404", "413", "422", "429",
                                                                        "503"}
    assert "/api/webhooks/talabat/order/{remote_id}" in paths and "/wallet/transactions/{ref_id}" in paths


def test_each_provider_route_names_its_own_providers_credential_headers(client):
    from providers.adapters import ADAPTERS

    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]

    def headers(path: str, method: str) -> set[str]:
        return {p["name"].lower() for p in paths[path][method]["parameters"] if p["in"] == "header"}

    for path, method in (("/api/webhooks/talabat/order/{remote_id}", "post"), ("/api/webhooks/talabat/catalog", "post"),
                         ("/api/webhooks/talabat/remoteId/{remote_id}/remoteOrder/{remote_order_id}/posOrderStatus",
                          "put")):
        assert headers(path, method) == {"x-talabat-signature", "x-talabat-api-key", "authorization"}, path
    generic = headers("/api/webhooks/{provider}", "post")
    assert {adapter.signature_header_name() for adapter in ADAPTERS.values()} <= generic
    assert {"x-talabat-signature", "x-careem-signature", "x-deliveroo-sequence-guid", "x-uber-signature"} <= generic
    assert "authorization" in headers("/api/webhooks/stats/{provider}", "get")


def test_the_docs_page_works_offline(client):
    page = client.get("/api/docs/").content.decode()

    assert "swagger-ui" in page.lower()
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", page)
    assert external == []  # every asset comes from this server (drf-spectacular-sidecar), no CDN
