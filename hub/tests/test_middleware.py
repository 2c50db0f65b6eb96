"""Security headers on every answer; the browser's middleware everywhere but on the machine endpoints."""


import pytest
from django.contrib.auth.models import Permission, User
from django.http import HttpRequest, HttpResponse

from hub.middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware

BROWSER_STATE = ("session", "user", "_messages")


@pytest.mark.django_db
def test_security_headers(client):
    answer = client.get("/health")

    assert (answer["X-Content-Type-Options"], answer["X-Frame-Options"], answer["Referrer-Policy"]) == (
        "nosniff", "DENY", "same-origin")


def browser_state_seen_by_the_view(rf, path: str) -> list[str]:
    seen: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse()

    SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view)))(rf.post(path))

    return [name for name in BROWSER_STATE if hasattr(seen[0], name)]


@pytest.mark.parametrize("path", ["/wallet/debit", "/wallet/transactions/r-1", "/api/webhooks/careem",
                                  "/api/webhooks/talabat/order/r-1", "/api/orders/9cb60cce-25c1-4c79-a937-a76dfc581c93/accept"])
def test_the_machine_endpoints_get_no_session_user_or_messages(rf, path):
    assert browser_state_seen_by_the_view(rf, path) == []


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/api/webhooks/stats/careem", "/health", "/api/docs/",
                                  "/walletx/debit"])
def test_every_other_path_gets_them(rf, path):
    assert browser_state_seen_by_the_view(rf, path) == list(BROWSER_STATE)


@pytest.mark.django_db
def test_staff_read_the_webhook_statistics_with_the_admin_session(client):
    """The statistics live under /api/webhooks/ beside intake, but are read with a session."""
    ops = User.objects.create_user("ops", password="unused-here", is_staff=True)
    client.force_login(ops)
    assert client.get("/api/webhooks/stats/careem").status_code == 403  # staff, but not allowed to read the audit

    ops.user_permissions.add(Permission.objects.get(codename="view_inboundwebhook"))
    client.force_login(User.objects.get(id=ops.id))  # permissions are cached on the user object
    assert client.get("/api/webhooks/stats/careem").status_code == 200
    client.logout()
    assert client.get("/api/webhooks/stats/careem").status_code in (401, 403)
