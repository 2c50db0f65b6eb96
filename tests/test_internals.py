"""One test per private API of a dependency the hub uses (`hub/internals.py`, docs/UPGRADING.md): each
fails loudly when an upgrade moves or changes what the hub relies on."""

import logging

import psycopg._queries
import pytest
import requests
from django.db import connection, connections

from hub import internals
from hub.db import insert
from webhooks.models import Destination


@pytest.mark.django_db
def test_psycopg_converts_a_statement_of_our_size_once():
    internals.cache_long_statements()
    assert psycopg._queries.MAX_CACHED_STATEMENT_PARAMS >= internals.HOT_STATEMENT_MAX_PARAMS
    query = "SELECT " + ", ".join(f"%(p{n})s::int" for n in range(internals.HOT_STATEMENT_MAX_PARAMS))
    params = {f"p{n}": n for n in range(internals.HOT_STATEMENT_MAX_PARAMS)}
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        hits = psycopg._queries._query2pg.cache_info().hits
        cursor.execute(query, params)
    assert psycopg._queries._query2pg.cache_info().hits == hits + 1


@pytest.mark.django_db
def test_a_row_written_without_save_is_marked_saved_as_save_marks_it():
    destination = Destination(name="d", url="http://127.0.0.1:9/")
    assert (destination._state.adding, destination._state.db) == (True, None)

    insert(destination)

    assert (destination._state.adding, destination._state.db) == (False, "default")
    destination.url = "http://127.0.0.1:10/"
    destination.save()  # an UPDATE, as for a saved instance, not a second INSERT
    assert Destination.objects.get().url == "http://127.0.0.1:10/"


def test_a_response_given_its_body_reads_it_as_requests_does():
    response = requests.Response()
    response.status_code, response.encoding = 200, "utf-8"

    internals.fill_response(response, b'{"ok": true}')

    assert (response.content, response.text, response.json()) == (b'{"ok": true}', '{"ok": true}', {"ok": True})
    assert list(response.iter_content(4)) == [b'{"ok', b'": t', b"rue}"]  # consumed: served from the body


def test_logging_skips_the_caller_lookup():
    internals.skip_caller_lookup()
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    logger = logging.getLogger("hub.tests.internals")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("a line")
    finally:
        logger.removeHandler(handler)
    assert (records[0].funcName, records[0].lineno) == ("(unknown function)", 0)


@pytest.mark.django_db(transaction=True)
def test_djangos_health_check_state_is_where_the_backend_reads_it(settings):
    database = connections["default"]
    database.close()
    database.settings_dict["CONN_HEALTH_CHECKS"] = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database.health_check_done = False  # type: ignore[attr-defined]  # what Django sets at the start of a request
        assert internals.health_check_pending(database) is True
        internals.health_check_passed(database)
        assert internals.health_check_pending(database) is False
        database.close_if_health_check_failed()
        assert database.connection is not None  # kept, and no query was needed
    finally:
        database.settings_dict["CONN_HEALTH_CHECKS"] = settings.DATABASES["default"].get("CONN_HEALTH_CHECKS", False)
