"""Django's PostgreSQL backend, whose per-request health check sends a query only when the server
has said something.

With `CONN_HEALTH_CHECKS`, Django checks a persistent connection before a request's first query with
`SELECT 1`: a round trip on every request, 60-70 µs of the process's CPU and 34 µs of PostgreSQL's
(the poll: 3 µs and none; docs/PERFORMANCE.md, eighth step). A server that ends an idle session (a
restart, `pg_terminate_backend`, an idle timeout, a proxy closing its side) sends an error and closes
the socket, so the socket becomes readable; one that is still serving an idle session sends nothing.
So the check first polls the socket, which costs no round trip, and runs Django's query only when
there is something to read.
A connection that dies in the instant between the check and the query fails the request as it did
with `SELECT 1` (503 with Retry-After, `hub.exception_handlers`), and is replaced on the next.
"""

import select

from django.db.backends.postgresql import base

from hub.internals import health_check_passed, health_check_pending


def server_has_spoken(fileno: int) -> bool:
    """Whether the socket of an idle connection has anything to read, or is closed or broken."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (self.connection is not None and health_check_pending(self)
                and not self.connection.closed and not server_has_spoken(self.connection.fileno())):
            health_check_passed(self)
            return
        super().close_if_health_check_failed()
