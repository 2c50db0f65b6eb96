"""Health selectors: is the database answering, is the broker reachable."""

import time

from django.db import DatabaseError, connection

from hub.celery import app as celery_app

STARTED_AT = time.monotonic()
BROKER_CONNECT_TIMEOUT_SECONDS = 2


def uptime_seconds() -> float:
    return round(time.monotonic() - STARTED_AT, 3)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # Drop the broken connection so the next request reconnects.
        connection.close_if_unusable_or_obsolete()
        return "unreachable"
    return "connected"


def broker_status() -> str:
    try:
        with celery_app.connection_for_write(connect_timeout=BROKER_CONNECT_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=0)
    except Exception:  # kombu raises transport-specific errors; any of them means "not reachable"
        return "unreachable"
    return "connected"
