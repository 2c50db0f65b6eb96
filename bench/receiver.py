"""The outbox benchmark's receiver: HTTP/1.1 keep-alive, answers every POST with 200 at once and
counts them; `GET /count` returns the count. Deliberately minimal (asyncio streams, no framework),
so that the measured cost is the hub's, not the receiver's.

Usage: python bench/receiver.py --port 18814
"""

import argparse
import asyncio

received = 0


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global received
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            if request_line.startswith("GET /count"):
                body = str(received).encode()
            else:
                received += 1
                body = b""
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18814)
    asyncio.run(serve(parser.parse_args().port))
