"""Security headers on every answer."""

import pytest



@pytest.mark.django_db
def test_security_headers(client):
    answer = client.get("/health")

    assert (answer["X-Content-Type-Options"], answer["X-Frame-Options"], answer["Referrer-Policy"]) == (
        "nosniff", "DENY", "same-origin")
