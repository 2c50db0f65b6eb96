"""hub.collector: a gunicorn worker freezes what it loaded before it serves, so full collections skip it."""

import gc
import weakref


from hub import gunicorn_conf


def test_a_gunicorn_worker_freezes_the_loaded_app_before_serving(unfrozen):
    assert gc.get_freeze_count() == 0

    gunicorn_conf.post_worker_init(worker=None)

    assert gc.get_freeze_count() > 50_000  # Django and the apps, as loaded by this test process


class Node:
    pass


def test_garbage_is_collected_before_the_freeze_not_kept_forever(unfrozen):
    gc.disable()  # no automatic collection in between: only the hook's own may free the cycle
    try:
        node = Node()
        node.itself = node
        alive = weakref.ref(node)
        del node

        gunicorn_conf.post_worker_init(worker=None)

        assert alive() is None
    finally:
        gc.enable()
