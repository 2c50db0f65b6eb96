"""Keep Python's cyclic garbage collector off what a long-running process loaded at start.

Django, the apps, their settings and caches live as long as the process, yet every full collection
walks them all: in a gunicorn worker of the hub, about 120,000 objects. A full collection holds the
GIL, so while it runs none of the worker's 8 threads serves a request: 80-103 ms of CPU each in
`make bench`'s wallet and intake phases, 8-17 ms with the freeze (docs/PERFORMANCE.md, eighth step).
`gc.freeze()` moves what exists into a permanent generation that collections skip; what is created
later is collected as before. Collecting first keeps garbage out of it.
"""

import gc


def freeze_loaded_objects() -> None:
    """Freeze every object that survives a full collection now."""
    gc.collect()
    gc.freeze()
