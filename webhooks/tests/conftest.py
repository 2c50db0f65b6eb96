import pytest

from webhooks import queue_sql


@pytest.fixture(params=["sql", "orm"])
def queue_statements(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on both ways of claiming and recording: the SQL statements (PostgreSQL) and the ORM
    queries (SQLite, and PostgreSQL while a circuit is open)."""
    if request.param == "orm":
        monkeypatch.setattr(queue_sql, "enabled", lambda: False)
    elif not queue_sql.enabled():
        pytest.skip("the SQL statements are PostgreSQL's; the ORM variant of this test runs here")
    return request.param
