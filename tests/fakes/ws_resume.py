#!/usr/bin/python3
"""ws_resume.py URL --clients N --events E [--timeout S]: N clients connect at once, client k
with ?after=<id k> (ids "e1".."eE", k cycling through 1..E-1), and each expects exactly the
events after its id ("e<k+1>".."eE") and then nothing for a moment. Prints one summary line and
exits 0 only if every client got the resume notice (found, with the right count), then exactly its
missing events, in order, once each."""
import argparse
import asyncio
import json
import sys

import websockets


async def client(url, k, events, quiet, results):
    want = ["e%d" % i for i in range(k + 1, events + 1)]
    got = []
    async with websockets.connect("%s?after=e%d" % (url, k), ping_interval=None,
                                  compression=None, max_queue=None) as ws:
        try:
            while True:
                msg = await asyncio.wait_for(ws.recv(), timeout=quiet if len(got) >= len(want)
                                             else 30)
                m = json.loads(msg)
                if "control" in m:  # the catchup notice: found, and how many to catch up on
                    if not m.get("found") or m.get("replayed") != len(want):
                        got.append("bad notice %r" % m)
                    continue
                got.append(m.get("id"))
        except asyncio.TimeoutError:
            pass
    results.append(got == want)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--events", type=int, default=50)
    ap.add_argument("--quiet", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    results = []
    tasks = [client(a.url, 1 + i % (a.events - 1), a.events, a.quiet, results)
             for i in range(a.clients)]
    await asyncio.wait_for(asyncio.gather(*tasks), a.timeout)
    ok = sum(results)
    print("clients %d exact %d" % (a.clients, ok), flush=True)
    sys.exit(0 if ok == a.clients else 1)


asyncio.run(main())
