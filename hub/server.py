"""The hub's gunicorn worker (`worker_class` in hub/gunicorn_conf.py): gunicorn's gthread worker, which
tells admission control (`hub.admission`) how long each request waited for a thread, and runs the hub
behind its check.

Where a request waits under overload, measured with the bench's overload phase: gthread's main thread
accepts every connection at once (up to `worker_connections`, 1,000) and hands each readable one to its
thread pool, whose queue is unbounded; PostgreSQL connections are one per thread, so nothing waits for
them. So the wait is the thread pool's queue, and that is where it is measured: from the moment gunicorn
submits the connection to the pool to the moment a thread takes it.
"""

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from hub import admission


class Worker(ThreadWorker):
    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = admission.ShedWhenQueued(self.wsgi)  # type: ignore[has-type]

    def enqueue_req(self, conn: Any) -> None:
        conn.hub_queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        queued_at = getattr(conn, "hub_queued_at", None)
        admission.waited(time.monotonic() - queued_at if queued_at is not None else 0.0)
        return super().handle(conn)
