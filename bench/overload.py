"""The overload phase of `make bench` (issue "Shed, don't queue"): many more connections than the hub
has threads, each sending pre-signed requests back to back, and every answer's status and latency kept,
so that the 2xx and the 503s are measured apart (wrk reports one latency for all).

An asyncio client of raw HTTP/1.1 on keep-alive connections: at the hub's few hundred requests a
second it costs a few percent of a core. A request not answered within `answer_timeout` (an RGS's
patience) counts as unanswered and its connection is replaced. With `honor_retry_after` a connection
answered 503 with Retry-After waits that long before its next request, as an RGS or a provider does;
without, it sends the next at once (the worst case: a retry storm that ignores the hub's answer).
"""

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer within the timeout, or the connection failed
    seconds: float
    retry_after: bool
    failure: str = ""  # timeout, or the connection's error


def raw_request(line: str, host: str) -> bytes:
    """A request of bench/requests.lua's line format (METHOD \\t PATH \\t name:value|… \\t BODY) as bytes."""
    method, path, header_text, body = line.split("\t", 3)
    data = body.encode()
    headers = [f"{name}: {value}" for name, value in (pair.split(":", 1) for pair in header_text.split("|") if pair)]
    head = "\r\n".join([f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(data)}", *headers])
    return head.encode() + b"\r\n\r\n" + data


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, float | None, bool]:
    """Status, the Retry-After seconds if any, whether the server closes the connection."""
    status = int((await reader.readline()).split()[1])
    length, retry_after, closes = 0, None, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "retry-after":
            retry_after = float(value)
        elif name == "connection" and value.strip().lower() == "close":
            closes = True
    await reader.readexactly(length)
    return status, retry_after, closes


async def _connection(host: str, port: int, requests: Iterator[bytes], until: float, answer_timeout: float,
                      honor_retry_after: bool, answers: list[Answer]) -> None:
    reader = writer = None
    while time.monotonic() < until:
        request = next(requests, None)
        if request is None:
            break
        started = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), answer_timeout)
            assert reader is not None
            writer.write(request)
            status, retry_after, closes = await asyncio.wait_for(_read_answer(reader), answer_timeout)
            answers.append(Answer(status, time.monotonic() - started, retry_after is not None))
            if honor_retry_after and retry_after:
                await asyncio.sleep(min(retry_after, max(0.0, until - time.monotonic())))
        except TimeoutError:
            answers.append(Answer(None, time.monotonic() - started, False, "timeout"))
            closes = True
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            answers.append(Answer(None, time.monotonic() - started, False, type(exc).__name__))
            closes = True
        if closes and writer is not None:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def run(lines: list[str], *, url: str, connections: int, seconds: float, answer_timeout: float = 2.0,
        honor_retry_after: bool = True) -> dict:
    """Send `lines` (each once) over `connections` for `seconds`; the answers' figures."""
    host_port = url.split("://", 1)[1]
    host, port = host_port.rsplit(":", 1)
    requests = iter([raw_request(line, host_port) for line in lines])
    answers: list[Answer] = []

    async def main() -> float:
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*(_connection(host, int(port), requests, until, answer_timeout, honor_retry_after,
                                           answers) for _ in range(connections)))
        return time.monotonic() - started

    cpu = time.process_time()
    elapsed = asyncio.run(main())
    client_cpu_ms = (time.process_time() - cpu) * 1000
    return {**summary(answers, elapsed, connections), "honor_retry_after": honor_retry_after,
            "client_cpu_ms_per_answer": round(client_cpu_ms / max(1, len(answers)), 3),
            "client_cpu_share_of_a_core": round(client_cpu_ms / 1000 / elapsed, 2)}


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)


def summary(answers: list[Answer], elapsed: float, connections: int) -> dict:
    ok = [a.seconds for a in answers if a.status is not None and 200 <= a.status < 300]
    shed = [a for a in answers if a.status == 503]
    answered = [a.seconds for a in answers if a.status is not None]
    return {
        "connections": connections, "seconds": round(elapsed, 1), "answers": len(answers),
        "goodput_rps": round(len(ok) / elapsed, 1),
        "ok_p50_ms": _percentile(ok, 0.50), "ok_p99_ms": _percentile(ok, 0.99),
        "shed": len(shed), "shed_p50_ms": _percentile([a.seconds for a in shed], 0.50),
        "shed_p99_ms": _percentile([a.seconds for a in shed], 0.99),
        "shed_without_retry_after": sum(1 for a in shed if not a.retry_after),
        "all_p99_ms": _percentile(answered, 0.99),
        "other_non_2xx": sum(1 for a in answers if a.status is not None and not 200 <= a.status < 300 and a.status != 503),
        "unanswered": sum(1 for a in answers if a.failure == "timeout"),
        "connection_errors": sum(1 for a in answers if a.status is None and a.failure != "timeout"),
    }
