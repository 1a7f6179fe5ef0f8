#!/usr/bin/python3
"""The other side of a WebSocket closing handshake, answering late (RFC 6455, section 5.5.1).

A close frame's sender must wait for the answer before it closes the TCP connection: closing
first leaves what it sent unread, which a reset then throws away on the reader's side.

  server DELAY  listens on 127.0.0.1 (port 0; logs "listening on 127.0.0.1:PORT" on stderr),
                takes one client, counts its text messages and, when the client's close frame
                arrives, waits DELAY seconds before answering it.
  client PORT DELAY
                connects to ws://127.0.0.1:PORT/, counts the text messages it gets and, when the
                server's close frame arrives, waits DELAY seconds before answering it.

Either prints "messages N" and then "peer waited for the answer" or "peer closed before the
answer", and exits 0 once the peer has closed the connection.
"""
import base64
import hashlib
import os
import socket
import struct
import sys
import time


PENDING = bytearray()  # read past the handshake's end


def read_exact(sock, n):
    while len(PENDING) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("the connection closed mid-frame")
        PENDING.extend(chunk)
    data = bytes(PENDING[:n])
    del PENDING[:n]
    return data


def read_frame(sock):
    b0, b1 = read_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(sock, 8))[0]
    mask = read_exact(sock, 4) if b1 & 0x80 else None
    payload = read_exact(sock, n)
    if mask:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return b0 & 0x0F, payload


def frame(opcode, payload, masked):
    head = bytes([0x80 | opcode])
    bit = 0x80 if masked else 0
    if len(payload) < 126:
        head += bytes([bit | len(payload)])
    else:
        head += bytes([bit | 126]) + struct.pack("!H", len(payload))
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def read_headers(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError("the connection closed during the handshake")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    PENDING.extend(rest)
    return head.decode("latin-1")


def peer_closed(sock):
    """Whether the peer has closed its side (FIN or reset) while we did not answer."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


def converse(sock, delay, masked):
    messages = 0
    while True:
        opcode, payload = read_frame(sock)
        if opcode == 0x1:
            messages += 1
        elif opcode == 0x8:
            break
    print("messages %d" % messages, flush=True)
    time.sleep(delay)
    print("peer closed before the answer" if peer_closed(sock) else "peer waited for the answer",
          flush=True)
    try:
        sock.sendall(frame(0x8, payload[:2], masked))
        while sock.recv(4096):
            pass
    except OSError:
        pass


def server(delay):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    print("listening on 127.0.0.1:%d" % listener.getsockname()[1], file=sys.stderr, flush=True)
    sock, _ = listener.accept()
    head = read_headers(sock)
    key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
               if line.lower().startswith("sec-websocket-key:"))
    accept = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
    converse(sock, delay, masked=False)


def client(port, delay):
    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n" % (port, key)).encode())
    head = read_headers(sock)
    if " 101 " not in head.split("\r\n")[0]:
        sys.exit("no upgrade: " + head.split("\r\n")[0])
    print("connected", file=sys.stderr, flush=True)
    converse(sock, delay, masked=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["server"]:
        server(float(sys.argv[2]))
    else:
        client(int(sys.argv[2]), float(sys.argv[3]))
