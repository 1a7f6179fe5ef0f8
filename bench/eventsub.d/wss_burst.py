#!/usr/bin/python3
"""wss_burst.py CERT KEY N: a TLS WebSocket server on 127.0.0.1 (port 0, logged as "listening on
127.0.0.1:PORT" on stderr) that sends each client N copies of the golden channel.follow
notification (tests/data/eventsub, as the fake EventSub server sends it), each with its own
message id, then closes. No welcome and no subscription: it is for the memory floor of a TLS
WebSocket client on this stack (`ws-cat --cacert CA wss://localhost:PORT/`), without Helix,
libcurl or the session."""
import asyncio
import json
import os
import ssl
import sys

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "fakes"))
from eventsub_ws import golden_messages  # noqa: E402  (tests/fakes/eventsub_ws.py)


async def main(cert, key, n):
    follow = next(m for m in golden_messages()
                  if m["metadata"]["subscription_type"] == "channel.follow")

    async def handler(ws, path=None):
        for i in range(n):
            follow["metadata"]["message_id"] = "burst-%d" % i
            await ws.send(json.dumps(follow))
        await ws.close()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    async with websockets.serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
        port = server.sockets[0].getsockname()[1]
        print("listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: wss_burst.py CERT KEY N")
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
