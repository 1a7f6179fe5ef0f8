#!/usr/bin/python3
"""A scripted WebSocket server for ws-cat's tests (python3-websockets).

Listens on 127.0.0.1, port 0, and logs "listening on 127.0.0.1:PORT" on stderr. To every client
it plays the script given as arguments, then closes:
  text:STR      a text message          binary:N    a binary message of N bytes
  frag:A,B,C    one text message sent as fragments A, B, C
  wait:SECS     a pause                 close:CODE  close with CODE (default 1000)
  hold          never send anything, never close (for --timeout)
With --echo it also prints every message it receives on stdout, one per line.
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
        elif kind == "hold":
            await asyncio.sleep(3600)
        elif kind == "close":
            code = int(arg or 1000)
    await ws.close(code=code, reason="script done")


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--echo", action="store_true")
    ap.add_argument("--silent-accept", action="store_true")
    ap.add_argument("script", nargs="*")
    a = ap.parse_args()
    if a.silent_accept:
        async def ignore(reader, writer):
            await asyncio.sleep(3600)
        server = await asyncio.start_server(ignore, "127.0.0.1", 0)
    else:
        server = await websockets.serve(lambda ws, path: play(ws, a.script, a.echo),
                                        "127.0.0.1", 0, compression=None)
    port = server.sockets[0].getsockname()[1]
    print("ws_server: info: listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    await asyncio.sleep(3600)


asyncio.run(main())
