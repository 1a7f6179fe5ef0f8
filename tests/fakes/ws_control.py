#!/usr/bin/python3
"""ws_control.py URL [--send MSG]... [--expect N] [--quiet S] [--ready FILE]: one client of
ws-serve's control channel for tests (python3-websockets, an implementation independent of ours).

Connects to URL (give it ?control=TOKEN or ?controls=1 to join the channel), writes --ready FILE
once the first message (ws-serve's hello) has come, sends each --send MSG as a text message (the
literal "@big:N" sends a control message padded to N bytes), and prints every text message it
receives on a line of its own. Ends after --expect N messages, or after --quiet seconds without
one once everything is sent; everything is bounded by --timeout. Exit 0, or 1 when the
connection fails.
"""
import argparse
import asyncio
import json
import sys

import websockets


def message(arg):
    if arg.startswith("@big:"):
        size = int(arg[5:])
        head = '{"v":1,"control":"skip","from":"'
        return head + "x" * max(0, size - len(head) - 2) + '"}'
    return arg


async def run(args):
    got = 0
    async with websockets.connect(args.url, ping_interval=None, compression=None,
                                  max_size=None) as ws:
        first = await asyncio.wait_for(ws.recv(), timeout=args.timeout)
        print(first, flush=True)
        got += 1
        if args.ready:
            with open(args.ready, "w") as f:
                f.write("ready\n")
        for m in args.send:
            await ws.send(message(m))
        while args.expect == 0 or got < args.expect:
            try:
                msg = await asyncio.wait_for(ws.recv(), timeout=args.quiet)
            except asyncio.TimeoutError:
                break
            if isinstance(msg, str):
                json.loads(msg)  # ws-serve sends JSON only on the channel
                print(msg, flush=True)
                got += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--send", action="append", default=[])
    p.add_argument("--expect", type=int, default=0)
    p.add_argument("--quiet", type=float, default=1.0)
    p.add_argument("--ready")
    p.add_argument("--timeout", type=float, default=20.0)
    args = p.parse_args()
    try:
        asyncio.run(asyncio.wait_for(run(args), timeout=args.timeout))
    except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as e:
        print("ws_control: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
