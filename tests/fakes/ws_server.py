#!/usr/bin/python3
"""A scripted WebSocket server for ws-cat's tests (python3-websockets).

Listens on 127.0.0.1, port 0, and logs "listening on 127.0.0.1:PORT" on stderr. To every client
it plays the script given as arguments, then closes:
  text:STR      a text message          binary:N    a binary message of N bytes
  frag:A,B,C    one text message sent as fragments A, B, C
  wait:SECS     a pause                 close:CODE  close with CODE (default 1000)
  hold          never send anything, never close (for --timeout)
  burst:N,SIZE  N text messages of SIZE bytes each, at once (numbered: "1 xxx...")
  every:SECS,N  N short text messages ("tick K"), SECS apart
With --echo it also prints every message it receives on stdout, one per line.
With --ping SECS it pings every SECS and closes (1011) a client whose pong is SECS late.
With --silent-accept it accepts TCP connections and never answers the handshake.
"""
import argparse
import asyncio
import sys

import websockets


async def play(ws, script, echo):
    if echo:
        async def reader():
            try:
                async for msg in ws:
                    print(msg, flush=True)
            except websockets.ConnectionClosed:
                pass
        asyncio.ensure_future(reader())
    code = 1000
    for step in script:
        kind, _, arg = step.partition(":")
        if kind == "text":
            await ws.send(arg)
        elif kind == "binary":
            await ws.send(b"\x00" * int(arg))
        elif kind == "frag":
            await ws.send(iter(arg.split(",")))
        elif kind == "wait":
            await asyncio.sleep(float(arg))
        elif kind == "burst":
            n, size = (int(x) for x in arg.split(","))
            for i in range(1, n + 1):
                head = "%d " % i
                await ws.send(head + "x" * max(0, size - len(head)))
        elif kind == "every":
            secs, n = arg.split(",")
            for i in range(1, int(n) + 1):
                await asyncio.sleep(float(secs))
                await ws.send("tick %d" % i)
        elif kind == "hold":
            await asyncio.sleep(3600)
        elif kind == "close":
            code = int(arg or 1000)
    await ws.close(code=code, reason="script done")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--echo", action="store_true")
    ap.add_argument("--silent-accept", action="store_true")
    ap.add_argument("--ping", type=float, default=20)
    ap.add_argument("script", nargs="*")
    a = ap.parse_args()
    if a.silent_accept:
        async def ignore(reader, writer):
            await asyncio.sleep(3600)
        server = await asyncio.start_server(ignore, "127.0.0.1", 0)
    else:
        server = await websockets.serve(lambda ws, path: play(ws, a.script, a.echo),
                                        "127.0.0.1", 0, compression=None,
                                        ping_interval=a.ping, ping_timeout=a.ping)
    port = server.sockets[0].getsockname()[1]
    print("ws_server: info: listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    await asyncio.sleep(3600)


asyncio.run(main())
