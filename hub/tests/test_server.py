"""The hub's worker reads a request off the socket itself only to shed it (`hub.server.whole_request`): it
must find exactly where the request ends, or say it cannot and leave it to gunicorn's parser."""

from hypothesis import given
from hypothesis import strategies as st

from hub.server import WholeRequest, whole_request

TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=20)
RESERVED = {"content-length", "transfer-encoding", "expect", "connection"}
HEADERS = st.lists(st.tuples(TOKEN.filter(lambda name: name.lower() not in RESERVED),
                             st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)),
                   max_size=8)
PATHS = st.lists(TOKEN, max_size=4).map(lambda parts: "/" + "/".join(parts))


def build(method: str, path: str, query: str, version: str, headers: list[tuple[str, str]], body: bytes,
          close: bool) -> tuple[bytes, WholeRequest]:
    """The request's bytes, and what whole_request is to find in them."""
    lines = [f"{method} {path}{'?' + query if query else ''} HTTP/{version}",
             *(f"{name}: {value}" for name, value in headers), f"Content-Length: {len(body)}"]
    if close:
        lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    return raw, WholeRequest(path=path, length=len(raw), keep_alive=version == "1.1" and not close)


REQUESTS = st.builds(build, method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]), path=PATHS,
                     query=st.text(alphabet="abc=&1", max_size=10), version=st.sampled_from(["1.0", "1.1"]),
                     headers=HEADERS, body=st.binary(max_size=300), close=st.booleans())


@given(request=REQUESTS, pipelined=st.binary(max_size=200))
def test_a_whole_request_is_found_to_its_last_byte_whatever_follows(request, pipelined):
    raw, expected = request
    assert whole_request(raw + pipelined) == expected


@given(request=REQUESTS, data=st.data())
def test_a_request_not_all_arrived_is_left_to_the_parser(request, data):
    raw, _ = request
    assert whole_request(raw[:data.draw(st.integers(0, len(raw) - 1))]) is None


@given(request=REQUESTS, header=st.sampled_from([b"Transfer-Encoding: chunked", b"Expect: 100-continue",
                                                  b"Content-Length: 0", b"No-Colon x", b" folded"]))
def test_a_request_whose_end_is_not_plain_is_left_to_the_parser(request, header):
    raw, _ = request
    line_end = raw.index(b"\r\n") + 2
    assert whole_request(raw[:line_end] + header + b"\r\n" + raw[line_end:]) is None


@given(garbage=st.binary(max_size=300))
def test_bytes_that_are_not_a_request_line_are_left_to_the_parser(garbage):
    assert whole_request(b"\x16\x03\x01" + garbage) is None  # a TLS hello, say
