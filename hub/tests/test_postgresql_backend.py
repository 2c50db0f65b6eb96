"""hub.postgresql: the per-request health check polls the socket, and queries only when the server spoke."""

import time

import pytest
from django.db import connections

from hub.postgresql.base import server_has_spoken

pytestmark = [pytest.mark.django_db(transaction=True)]


def _backend_pid(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _next_request(connection) -> None:
    """What Django does between two requests on a persistent connection (`close_old_connections`)."""
    connection.close_if_unusable_or_obsolete()


def test_a_quiet_connection_is_kept_without_a_query(monkeypatch):
    connection = connections["default"]
    pid = _backend_pid(connection)
    monkeypatch.setattr(connection, "is_usable", lambda: pytest.fail("the health check sent a query"))

    _next_request(connection)

    assert connection.health_check_enabled
    assert _backend_pid(connection) == pid


def test_a_connection_the_server_ended_while_idle_is_replaced_before_the_next_query():
    connection = connections["default"]
    pid = _backend_pid(connection)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    deadline = time.monotonic() + 5
    while not server_has_spoken(connection.connection.fileno()) and time.monotonic() < deadline:
        time.sleep(0.01)

    _next_request(connection)

    assert _backend_pid(connection) != pid  # a new session, and the query did not fail
