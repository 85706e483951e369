"""GET /containers/{id}/attach/ws through flocker: a websocket relayed like any hijack."""
import sys

import websocket

proxy, container = sys.argv[1], sys.argv[2]
ws = websocket.create_connection(
    f"ws://{proxy}/v1.41/containers/{container}/attach/ws?stream=1&stdin=1&stdout=1", timeout=20)
ws.send_binary(b"over websocket\n")
got = b""
while b"over websocket" not in got:
    frame = ws.recv()
    got += frame if isinstance(frame, bytes) else frame.encode()
ws.close()
print(got.decode().strip())
