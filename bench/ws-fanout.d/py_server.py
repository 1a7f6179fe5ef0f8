"""python3-websockets peer for bench/ws-fanout (Debian's websockets 10.4).

Reads stdin lines and sends each, as one text frame, to every open client
with websockets.broadcast() (no backpressure, as its docstring says), or with
--per-client, an awaited send() per client. Compression is off, as in the
other peers. Binds 127.0.0.1:0 and logs the port on stderr. Exits when stdin
ends unless --keep-open; the harness stops it with SIGTERM.
Run it with /usr/bin/python3: the python3 on PATH lacks websockets.
"""
import asyncio
import os
import signal
import sys

import websockets

CLIENTS = set()


async def handler(ws, _path=None):
    CLIENTS.add(ws)
    try:
        await ws.wait_closed()
    finally:
        CLIENTS.discard(ws)


async def main():
    keep_open = "--keep-open" in sys.argv
    per_client = "--per-client" in sys.argv
    loop = asyncio.get_running_loop()
    # SIGTERM ends the process at once, as it does for the Node peer.
    loop.add_signal_handler(signal.SIGTERM, os._exit, 0)
    async with websockets.serve(handler, "127.0.0.1", 0,
                                compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"py-websockets: info: listening on 127.0.0.1:{port}",
              file=sys.stderr, flush=True)
        reader = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                break
            text = line.rstrip(b"\n").decode()
            if per_client:
                await asyncio.gather(*(c.send(text) for c in set(CLIENTS)),
                                     return_exceptions=True)
            else:
                websockets.broadcast(CLIENTS, text)
        if keep_open:
            await asyncio.Future()  # until SIGTERM
        else:
            await asyncio.gather(*(c.close() for c in set(CLIENTS)),
                                 return_exceptions=True)


asyncio.run(main())
