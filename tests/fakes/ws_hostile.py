#!/usr/bin/python3
"""ws_hostile.py URL ATTACK [--mb N]: one hostile client against a WebSocket server, for tests of
what the server holds up against. Raw sockets, so nothing is refused on the client's side.

ATTACK is one of:
  bigframe   a text frame whose header claims 2.4 GB, then N MiB of its payload
  fragments  a text message that never ends: continuation frames, N MiB in all
  pings      N MiB of small ping frames, never reading the pongs
  bigheader  an HTTP request with a 64 KiB header
  h2         the HTTP/2 connection preface (prior knowledge)
  silent     connects and sends nothing
Prints one line: "closed after S seconds" when the server closed the connection (EOF or reset),
"open" when it was still open at the end (--wait seconds after the attack), or the status line
of the server's HTTP answer ("answer: HTTP/1.1 431 ...") for bigheader and h2.
"""
import argparse
import base64
import os
import socket
import struct
import sys
import time
import urllib.parse


def connect(url):
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=10)
    return s, u


def handshake(s, u):
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (u.path or "/", u.hostname, u.port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("handshake: closed")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        sys.exit("handshake: " + head.split(b"\r\n")[0].decode())


def frame_header(opcode, length, fin=True):
    b0 = (0x80 if fin else 0) | opcode
    mask = os.urandom(4)
    if length < 126:
        return struct.pack("!BB", b0, 0x80 | length) + mask, mask
    if length < 65536:
        return struct.pack("!BBH", b0, 0x80 | 126, length) + mask, mask
    return struct.pack("!BBQ", b0, 0x80 | 127, length) + mask, mask


def masked(data, mask):
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def send_all(s, data):
    try:
        s.sendall(data)
        return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("attack")
    ap.add_argument("--mb", type=int, default=32)
    ap.add_argument("--wait", type=float, default=2.0)
    a = ap.parse_args()
    s, u = connect(a.url)
    start = time.monotonic()
    total = a.mb << 20
    alive = True
    if a.attack in ("bigheader", "h2"):
        if a.attack == "h2":
            s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        else:
            s.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\nX-Big: %s\r\n\r\n"
                       % (u.hostname, u.port, "x" * 65536)).encode())
        try:
            answer = s.recv(4096)
        except OSError:
            answer = b""
        print("answer: " + answer.split(b"\r\n")[0].decode(errors="replace") if answer
              else "closed after %.1f seconds" % (time.monotonic() - start))
        return
    if a.attack != "silent":
        handshake(s, u)
    block = os.urandom(64 * 1024)
    if a.attack == "bigframe":
        head, mask = frame_header(0x1, 2400 * 1000 * 1000)
        alive = send_all(s, head)
        sent = 0
        while alive and sent < total:
            alive = send_all(s, masked(block, mask))  # the mask restarts: fine, it is junk
            sent += len(block)
    elif a.attack == "fragments":
        head, mask = frame_header(0x1, len(block), fin=False)
        alive = send_all(s, head + masked(b"a" * len(block), mask))
        sent = len(block)
        while alive and sent < total:
            head, mask = frame_header(0x0, len(block), fin=False)
            alive = send_all(s, head + masked(b"a" * len(block), mask))
            sent += len(block)
    elif a.attack == "pings":
        head, mask = frame_header(0x9, 4)
        one = head + masked(b"ping", mask)
        batch = one * 4096
        sent = 0
        while alive and sent < total:
            alive = send_all(s, batch)
            sent += len(batch)
    deadline = time.monotonic() + a.wait
    s.settimeout(0.2)
    while alive and time.monotonic() < deadline:
        try:
            if not s.recv(65536):
                alive = False
        except socket.timeout:
            pass
        except OSError:
            alive = False
    print("open" if alive else "closed after %.1f seconds" % (time.monotonic() - start))


main()
