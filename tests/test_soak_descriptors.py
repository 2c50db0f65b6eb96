"""`make soak` judges every kind of descriptor a process holds, not regular files alone: a worker that kept
its recycled children's pipes, or a socket per task, grew unseen while the files stayed flat."""

import os
import socket
import tempfile

from bench.soak import _descriptor_kinds


def test_each_kind_of_descriptor_is_counted():
    before = _descriptor_kinds(os.getpid())
    read_end, write_end = os.pipe()
    listener = socket.socket()
    with tempfile.TemporaryFile() as _:
        during = _descriptor_kinds(os.getpid())
    listener.close()
    os.close(read_end)
    os.close(write_end)

    assert (during["pipe"] - before["pipe"], during["socket"] - before["socket"], during["file"] - before["file"]) == (
        2, 1, 1)
