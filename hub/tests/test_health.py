import pytest
import requests

from hub.testing import database_url_of_test_db, free_port, start_process, stop_process, subprocess_env, wait_until

pytestmark = pytest.mark.django_db


def test_health_reports_database_and_broker(client):
    answer = client.get("/health")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["database"], body["broker"]) == ("ok", "connected", "connected")
    assert set(body) == {"status", "timestamp", "uptime", "database", "broker"}
    assert body["uptime"] >= 0


def test_health_accepts_a_trailing_slash(client):
    assert client.get("/health/").status_code == 200


def serve_hub(tmp_path, **env: str):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = start_process(
        ["-m", "gunicorn", "hub.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        env=subprocess_env(HUB_VAR_DIR=str(tmp_path), **env),
        log=log,
    )
    url = f"http://127.0.0.1:{port}/health"

    def answering() -> bool:
        try:
            requests.get(url, timeout=5)
            return True
        except requests.ConnectionError:
            return False

    wait_until(answering, timeout=30, what="gunicorn", log=log)
    return process, url


@pytest.mark.e2e
@pytest.mark.parametrize(
    "database_url",
    [
        pytest.param("postgres://hub@127.0.0.1:1/hub", id="postgres-refused"),
        pytest.param("postgres://hub@%2Fnonexistent-directory/hub", id="postgres-socket-missing"),
    ],
)
def test_health_is_503_when_the_database_is_down(tmp_path, database_url):
    process, url = serve_hub(tmp_path, DATABASE_URL=database_url, CELERY_BROKER_URL="filesystem://")
    try:
        answer = requests.get(url, timeout=10)
    finally:
        stop_process(process)

    assert answer.status_code == 503
    assert (answer.json()["status"], answer.json()["database"]) == ("unavailable", "unreachable")


@pytest.mark.e2e
def test_health_is_degraded_but_200_when_only_the_broker_is_down(tmp_path):
    process, url = serve_hub(
        tmp_path, DATABASE_URL=database_url_of_test_db(), CELERY_BROKER_URL="redis://127.0.0.1:1/0"
    )
    try:
        answer = requests.get(url, timeout=10)
    finally:
        stop_process(process)

    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["database"], answer.json()["broker"]) == (
        "degraded",
        "connected",
        "unreachable",
    )


def test_the_admin_login_page_carries_the_hub_name(client):
    answer = client.get("/admin/login/")

    assert answer.status_code == 200
    assert "Integration Hub" in answer.content.decode()


def test_readiness_needs_database_and_broker(client):
    answer = client.get("/health/ready")

    assert answer.status_code == 200 and answer.json()["broker"] == "connected"
