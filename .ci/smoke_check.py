"""Wait until `make run` (or the compose stack) serves the hub and the seven mocks; log in to the admin; send
what the README shows."""

import argparse
import subprocess
import sys
import time

import requests

HUB = "http://127.0.0.1:8000"
ENDPOINTS = {
    "hub /health": f"{HUB}/health",
    "hub /admin/login/": f"{HUB}/admin/login/",
    "hub /metrics": f"{HUB}/metrics",
    "hub /api/schema/": f"{HUB}/api/schema/",
    "hub /api/docs/": f"{HUB}/api/docs/",
    "operator mock": "http://127.0.0.1:8001/__control/requests",
    "rgs mock": "http://127.0.0.1:8002/__control/requests",
    "backend mock": "http://127.0.0.1:8003/__control/requests",
    "careem mock": "http://127.0.0.1:8004/__control/requests",
    "talabat mock": "http://127.0.0.1:8005/__control/requests",
    "deliveroo mock": "http://127.0.0.1:8006/__control/requests",
    "ubereats mock": "http://127.0.0.1:8007/__control/requests",
}


def status_of(url: str) -> int | None:
    try:
        return requests.get(url, timeout=3).status_code
    except requests.RequestException:
        return None


def wait_for_all(deadline: float) -> dict[str, int | None]:
    seen: dict[str, int | None] = dict.fromkeys(ENDPOINTS)
    while time.monotonic() < deadline:
        for name, url in ENDPOINTS.items():
            if seen[name] != 200:
                seen[name] = status_of(url)
        if all(code == 200 for code in seen.values()):
            break
        time.sleep(1)
    return seen


def admin_login_works(user: str, password: str) -> bool:
    session = requests.Session()
    session.get(f"{HUB}/admin/login/", timeout=5)
    answer = session.post(
        f"{HUB}/admin/login/?next=/admin/",
        data={"username": user, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"],
              "next": "/admin/"},
        headers={"Referer": f"{HUB}/admin/login/"},
        timeout=5,
        allow_redirects=False,
    )
    return answer.status_code == 302 and answer.headers.get("Location") == "/admin/"


def command_then_arrival(command: list[str], answered: str, arrived, deadline: float) -> bool:
    """Run a manage.py command the README shows, check its answer, then wait for the fake to get the result."""
    sent = subprocess.run([sys.executable, "manage.py", *command], capture_output=True, text=True, timeout=60)
    print(sent.stdout.strip())
    if answered not in sent.stdout:
        print(sent.stderr[-2000:])
        return False
    while time.monotonic() < deadline:
        if arrived():
            return True
        time.sleep(0.5)
    return False


def debit_reaches_the_rgs(deadline: float) -> bool:
    """A signed debit with wallet_request, then the RGS webhook."""
    def arrived() -> bool:
        items = requests.get("http://127.0.0.1:8002/__control/webhooks", timeout=5).json()["items"]
        return any(item["type"] == "wallet.transaction.completed" for item in items)

    return command_then_arrival(["wallet_request", "debit", "--player", "smoke-player", "--amount", "150"], "HTTP 201",
                                arrived, deadline)


def order_reaches_the_backend(deadline: float) -> bool:
    """A signed Careem webhook with send_provider_webhook, then the order at the backend fake."""
    def arrived() -> bool:
        orders = requests.get("http://127.0.0.1:8003/__control/orders", timeout=5).json()["orders"]
        return any(o["order"].get("externalOrderId") == "62504546" for o in orders)

    return command_then_arrival(["send_provider_webhook", "careem", "providers/tests/fixtures/careem/order_created_jod.json"],
                                "HTTP 200", arrived, deadline)


def acceptance_reaches_careem(deadline: float) -> bool:
    """decide_order accept with the hub order id the backend fake received (as a backend would), then the
    order accepted at the Careem fake."""
    def arrived() -> bool:
        orders = requests.get("http://127.0.0.1:8004/__control/orders", timeout=5).json()["orders"]
        return orders.get("62504546", {}).get("state") == "accepted"

    orders = requests.get("http://127.0.0.1:8003/__control/orders", timeout=5).json()["orders"]
    order_id = next(o["orderId"] for o in orders if o["order"].get("externalOrderId") == "62504546")
    return command_then_arrival(["decide_order", "accept", order_id], "HTTP 202", arrived, deadline)


MENU_SITE = f"{HUB}/api/locations/shawarma-x-salmiya"
BACKEND_KEY = {"X-AUTH": "dev-insecure-backend-callback-key"}  # the demo's (make run, compose)
FAKES_HOLDING_MENUS = {"careem": 8004, "talabat": 8005, "deliveroo": 8006, "ubereats": 8007}


def menu_live_everywhere(deadline: float) -> bool:
    """The README's menu: published to the demo site, then live for all four providers (each fake posts its
    result back to the hub, Uber answers at once) and held by each fake."""
    menu = open("providers/tests/fixtures/menus/demo_menu.json", "rb").read()
    answer = requests.put(f"{MENU_SITE}/menu", data=menu, headers={**BACKEND_KEY, "Content-Type": "application/json"},
                          timeout=10)
    print(f"PUT {MENU_SITE}/menu: HTTP {answer.status_code}")
    if answer.status_code not in {200, 202}:
        print(answer.text[:500])
        return False
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        syncs = requests.get(f"{MENU_SITE}/sync", headers=BACKEND_KEY, timeout=5).json()["syncs"]
        states = {sync["provider"]: sync["status"] for sync in syncs}
        if states == dict.fromkeys(FAKES_HOLDING_MENUS, "live"):
            break
        time.sleep(1)
    print(f"menu syncs: {states}")
    held = {name: bool(requests.get(f"http://127.0.0.1:{port}/__control/menus", timeout=5).json().get("menus"))
            for name, port in FAKES_HOLDING_MENUS.items()}
    print(f"menus held by the fakes: {held}")
    return states == dict.fromkeys(FAKES_HOLDING_MENUS, "live") and all(held.values())


def dispatchers_listening(deadline: float) -> int | None:
    """hub_outbox_dispatchers_listening from /metrics once it is at least 1 (None: Celery delivers here)."""
    while True:
        lines = requests.get(ENDPOINTS["hub /metrics"], timeout=5).text.splitlines()
        values = [float(line.split()[-1]) for line in lines if line.startswith("hub_outbox_dispatchers_listening ")]
        if not values or values[0] >= 1 or time.monotonic() > deadline:
            return int(values[0]) if values else None
        time.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--admin-user", required=True)
    parser.add_argument("--admin-password", required=True)
    args = parser.parse_args()

    started = time.monotonic()
    seen = wait_for_all(started + args.timeout)
    for name, code in seen.items():
        print(f"{'ok  ' if code == 200 else 'FAIL'} {name}: {code}")
    if not all(code == 200 for code in seen.values()):
        return 1
    health = requests.get(ENDPOINTS["hub /health"], timeout=5).json()
    print(f"health: {health}")
    if (health["database"], health["broker"]) != ("connected", "connected"):
        return 1
    if not admin_login_works(args.admin_user, args.admin_password):
        print("FAIL admin login with DJANGO_SUPERUSER_USERNAME/PASSWORD")
        return 1
    print(f"ok   admin login; everything up after {time.monotonic() - started:.1f}s")
    listening = dispatchers_listening(time.monotonic() + 60)
    if listening == 0:
        print("FAIL no outbox dispatcher listening (hub_outbox_dispatchers_listening 0)")
        return 1
    deliverer = "Celery nudges (no dispatcher here)" if listening is None else f"{listening} outbox dispatcher listening"
    print(f"ok   {deliverer}")
    sent = time.monotonic()
    if not debit_reaches_the_rgs(sent + 60):
        print("FAIL wallet_request debit did not reach the RGS fake as a webhook")
        return 1
    print(f"ok   wallet_request debit → Operator fake → RGS webhook delivered in {time.monotonic() - sent:.1f}s")
    if not order_reaches_the_backend(time.monotonic() + 60):
        print("FAIL send_provider_webhook careem did not reach the backend fake")
        return 1
    print("ok   send_provider_webhook careem → order at the backend fake (X-AUTH)")
    if not acceptance_reaches_careem(time.monotonic() + 60):
        print("FAIL decide_order accept did not reach the Careem fake")
        return 1
    print("ok   decide_order accept careem → PUT accepted at the Careem fake (OAuth2 bearer)")
    if not menu_live_everywhere(time.monotonic() + 90):
        print("FAIL the demo menu is not live at all four provider fakes")
        return 1
    print("ok   PUT the demo menu → live at the Careem, Talabat, Deliveroo and Uber Eats fakes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
