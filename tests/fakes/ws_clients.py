#!/usr/bin/python3
"""Independent WebSocket clients for ws-serve's tests (python3-websockets), in one process.

Opens --clients connections to URL and expects each to receive the lines "1".."--lines" in order
(zero-padded to --width digits, as `seq -f %0W.0f` writes them) and then a normal close (1000). --stall K more clients do the handshake and then never read.
Writes --ready FILE once every connection is open. Prints one summary line and exits 0 only if
every reading client got everything in order; everything is bounded by --timeout.
"""
import argparse
import asyncio
import base64
import os
import socket
import sys
import urllib.parse

import websockets


def small_socket(url):
    """A connected socket with a fixed receive buffer: the kernel would otherwise let one reader
    hold megabytes more than another, and the server would rightly take the other for slow."""
    u = urllib.parse.urlsplit(url)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
    s.connect((u.hostname, u.port))
    return s


async def reader(url, expect, width, headers, results, i):
    got = 0
    bad = None
    async with websockets.connect(url, sock=small_socket(url), max_size=None, ping_interval=None,
                                  compression=None, extra_headers=headers, max_queue=256) as ws:
        results["open"] += 1
        try:
            async for msg in ws:
                got += 1
                if got % 64 == 0:
                    await asyncio.sleep(0)  # take turns: the test is of the server's fairness
                if bad is None and msg != str(got).zfill(width):
                    bad = "client %d: message %d is %r" % (i, got, msg[:40])
        except websockets.ConnectionClosed:
            pass
        code = ws.close_code
    if bad:
        results["errors"].append(bad)
    elif got != expect:
        results["errors"].append("client %d: %d of %d messages" % (i, got, expect))
    elif code != 1000:
        results["errors"].append("client %d: close code %s" % (i, code))
    else:
        results["complete"] += 1


def stalled_socket(url):
    """A client that completes the handshake and then never reads."""
    u = urllib.parse.urlsplit(url)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((u.hostname, u.port))
    key = base64.b64encode(os.urandom(16)).decode()
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (path, u.hostname, u.port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            raise RuntimeError("stalled client: connection closed during handshake")
        head += chunk
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError("stalled client: %r" % head.split(b"\r\n")[0])
    return s


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--width", type=int, default=0)
    ap.add_argument("--stall", type=int, default=0)
    ap.add_argument("--ready")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--header", action="append", default=[])
    a = ap.parse_args()
    headers = [tuple(x.strip() for x in h.split(":", 1)) for h in a.header]
    results = {"open": 0, "complete": 0, "errors": []}
    stalled = [stalled_socket(a.url) for _ in range(a.stall)]
    tasks = [asyncio.ensure_future(reader(a.url, a.lines, a.width, headers, results, i))
             for i in range(a.clients)]
    for _ in range(int(a.timeout * 20)):
        if results["open"] == a.clients or all(t.done() for t in tasks):
            break
        await asyncio.sleep(0.05)
    if a.ready:
        with open(a.ready + ".tmp", "w") as f:
            f.write("%d\n" % results["open"])
        os.rename(a.ready + ".tmp", a.ready)
    done, pending = await asyncio.wait(tasks, timeout=a.timeout)
    for t in pending:
        t.cancel()
    for t in done:
        if t.exception():
            results["errors"].append(repr(t.exception()))
    for s in stalled:
        s.close()
    print("clients=%d complete=%d timed_out=%d errors=%d %s" % (
        a.clients, results["complete"], len(pending), len(results["errors"]),
        "; ".join(results["errors"][:5])))
    sys.exit(0 if results["complete"] == a.clients else 1)


asyncio.run(main())
