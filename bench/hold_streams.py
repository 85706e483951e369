"""Opens N `GET /events` streams through a Docker endpoint and holds them.

    hold_streams.py HOST:PORT N      prints "open N" once every stream has its 200 header,
                                     then holds them until stdin closes.
"""
import asyncio
import sys


async def open_stream(host, port, streams):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /v1.41/events HTTP/1.1\r\nHost: docker\r\n\r\n")
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    streams.append((reader, writer))


async def main(target, count):
    host, port = target.rsplit(":", 1)
    streams = []
    for start in range(0, count, 250):  # in waves, not to overrun the listen backlog
        await asyncio.gather(*(open_stream(host, int(port), streams) for _ in range(start, min(count, start + 250))))
    print(f"open {len(streams)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for _, writer in streams:
        writer.close()


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
