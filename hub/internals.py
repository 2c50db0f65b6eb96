"""Every use of a dependency's private API (a name with a leading underscore, or an attribute its
documentation does not promise), in one place, each kept only for a gain measured in `make bench`.

Each has a test of its own in `tests/test_internals.py` that fails loudly when an upgrade moves or
changes it; docs/UPGRADING.md lists them. Code elsewhere calls these functions, never the internals.
"""

import logging
from typing import TYPE_CHECKING, Any

import psycopg._queries

if TYPE_CHECKING:  # hub.logs imports this module while the settings load: nothing of Django's ORM at import
    import requests
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

# The most parameters a statement of ours may have and still be converted once (a new order's
# `insert_together`: audit row, order, event and outbox message). `cache_long_statements` says why.
HOT_STATEMENT_MAX_PARAMS = 120


def cache_long_statements() -> None:
    """Let psycopg keep the conversion of statements of up to HOT_STATEMENT_MAX_PARAMS parameters.

    psycopg turns a statement's `%(name)s` placeholders into `$n` with a regex pass over its text and
    keeps the result in an LRU (128 statements), but only for statements of at most 50 parameters, so that
    an ORM's bulk INSERTs of varying sizes do not crowd the cache out. A new order's statement has more:
    its 2 KB of text were parsed anew for every order, 12 % of the hub's CPU per order at saturation
    (docs/PERFORMANCE.md, seventh step). Our statements have fixed texts, and the LRU stays bounded.
    psycopg has no public setting for it.
    """
    psycopg._queries.MAX_CACHED_STATEMENT_PARAMS = max(psycopg._queries.MAX_CACHED_STATEMENT_PARAMS,
                                                       HOT_STATEMENT_MAX_PARAMS)


def mark_saved(instance: "Model", alias: str) -> None:
    """What `save()` records on an instance it inserted (Django's `Model._state`): `hub.db.insert` writes
    rows without `save()`, whose compilation was half the CPU of the hot paths' inserts."""
    instance._state.adding, instance._state.db = False, alias


def fill_response(response: "requests.Response", body: bytes) -> None:
    """Give a `requests.Response` its whole body, as `Response.content` does once it has read it
    (`_content`, `_content_consumed`): the hub's libcurl transport reads the body itself (hub/http.py)."""
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]


def skip_caller_lookup() -> None:
    """No log line shows where it was logged from, so logging need not look it up: the logging HOWTO's
    "Optimization" setting (`logging._srcfile = None`), an eighth of each line's cost
    (docs/PERFORMANCE.md, tenth step)."""
    logging._srcfile = None


def health_check_pending(database: "BaseDatabaseWrapper") -> bool:
    """Whether Django would run its per-request health check on this connection now
    (`health_check_enabled`, `health_check_done`: BaseDatabaseWrapper's, not documented)."""
    wrapper: Any = database
    return bool(wrapper.health_check_enabled and not wrapper.health_check_done)


def health_check_passed(database: "BaseDatabaseWrapper") -> None:
    wrapper: Any = database
    wrapper.health_check_done = True
