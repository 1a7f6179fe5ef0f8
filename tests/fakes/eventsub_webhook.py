#!/usr/bin/python3
"""A signing client for twitch-hook's tests: posts EventSub webhook requests as Twitch does
(twitch-protocols.md §4): the Twitch-Eventsub-Message-* headers, "sha256=" + the hex HMAC-SHA256
of message id + timestamp + raw body under the secret, and the body as raw bytes.

Commands (every one bounded by --timeout; each prints what the server answered):
  (--tls CA: every command over HTTPS, trusting CA)
  post      one request: --type, --id, --body (JSON text) or --golden FILE (its first message),
            --age SECONDS (a timestamp that far in the past; negative: the future), --forge (a
            signature under another secret), --omit HEADER (leave a header out, "signature" too),
            --method, --path. Prints "STATUS BODY".
  golden    every notification of the golden FILEs (tests/data/eventsub: WebSocket messages or
            {"headers","body"} webhook requests) posted with a fresh timestamp; prints a status
            line for each to stderr and exits 1 unless every one got a 2xx.
  many      --count notifications on --count connections opened at once, each holding its
            request until all are connected; prints "STATUS COUNT" lines, sorted.
  sequence  --count notifications one after another (ids PREFIX-000001...), each retried
            while it gets 503, up to --timeout; prints "sent N retries R".
  raw       sends --data (Python escapes allowed) as the whole request; prints the status line.
  slow      sends a signed request's headers, then its body a byte every --every seconds;
            prints "closed after SECONDS" or the status it got.
  big       announces --length bytes of body, sends --send of them, prints the status.
  inflight  sends a signed request's headers and half its body, writes --ready FILE, waits for
            FILE --go to exist, sends the rest; prints the status.
"""
import argparse
import datetime
import hashlib
import hmac
import json
import os
import socket
import sys
import threading
import time
import uuid


def now_stamp(age=0.0):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=age)
    # Twitch writes nanoseconds; Python has microseconds: pad to nine digits as Twitch does.
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "417Z"


def sign(secret, mid, stamp, body):
    mac = hmac.new(secret.encode(), mid.encode() + stamp.encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def request_bytes(args, mid, mtype, body, sub_type="channel.follow", stamp=None, extra=None):
    stamp = stamp or now_stamp(args.age)
    secret = "not-the-secret-at-all" if args.forge else args.secret
    headers = {
        "Host": "127.0.0.1",
        "Content-Type": "application/json",
        "Twitch-Eventsub-Message-Id": mid,
        "Twitch-Eventsub-Message-Retry": "0",
        "Twitch-Eventsub-Message-Type": mtype,
        "Twitch-Eventsub-Message-Signature": sign(secret, mid, stamp, body),
        "Twitch-Eventsub-Message-Timestamp": stamp,
        "Twitch-Eventsub-Subscription-Type": sub_type,
        "Twitch-Eventsub-Subscription-Version": "1",
        "Content-Length": str(len(body)),
    }
    headers.update(extra or {})
    for name in args.omit or []:
        for k in list(headers):
            if k.lower().endswith(name.lower()):
                del headers[k]
    head = "%s %s HTTP/1.1\r\n" % (args.method, args.path)
    head += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    return head.encode(), body


def connect(args):
    s = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    if args.tls:
        import ssl
        ctx = ssl.create_default_context(cafile=args.tls)
        ctx.check_hostname = False
        s = ctx.wrap_socket(s)
    return s


LAST = {"type": ""}


def read_response(s):
    """(status, body) of one response; (0, why) when the connection ends first."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return 0, "closed"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
            if k.strip().lower() == "content-type":
                LAST["type"] = v.strip()
            if k.strip().lower() == "connection":
                LAST["connection"] = v.strip()
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return status, rest[:length].decode("utf-8", "replace")
    except (ConnectionResetError, BrokenPipeError) as e:
        return 0, type(e).__name__
    except socket.timeout:
        return 0, "timeout"


def exchange(args, head, body):
    with connect(args) as s:
        try:
            s.sendall(head + body)
        except (ConnectionResetError, BrokenPipeError):
            pass
        return read_response(s)


def notifications(path):
    """(message id, subscription type, body bytes, headers) of each notification in a golden file."""
    text = open(path).read()
    dec = json.JSONDecoder()
    i = 0
    out = []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        value, i = dec.raw_decode(text, i)
        if "metadata" in value:
            md = value["metadata"]
            if md.get("message_type") != "notification":
                continue
            body = json.dumps(value["payload"]).encode()
            out.append((md["message_id"], md.get("subscription_type", ""), body))
        else:
            h = {k.lower(): v for k, v in value["headers"].items()}
            body = json.dumps(value["body"]).encode()
            out.append((h["twitch-eventsub-message-id"],
                        h.get("twitch-eventsub-subscription-type", ""), body))


def cmd_post(args):
    if args.golden:
        mid, sub_type, body = notifications(args.golden)[0]
        mid = args.id or mid
    else:
        mid, sub_type, body = args.id or str(uuid.uuid4()), "channel.follow", args.body.encode()
    head, body = request_bytes(args, mid, args.type, body, sub_type)
    status, text = exchange(args, head, body)
    if args.show_type:
        print(LAST["type"])
    if args.show_connection:
        print("connection:", LAST.get("connection", "(none)"))
    print(status, text.rstrip("\n"))


def cmd_golden(args):
    ok = True
    for path in args.files:
        for mid, sub_type, body in notifications(path):
            head, body = request_bytes(args, mid, "notification", body, sub_type)
            status, text = exchange(args, head, body)
            print("%s %s %d %s" % (os.path.basename(path), mid, status, text.strip()),
                  file=sys.stderr)
            ok = ok and 200 <= status < 300
    sys.exit(0 if ok else 1)


def follow_body(n):
    return json.dumps({
        "subscription": {"id": "sub-1", "type": "channel.follow", "version": "2",
                         "status": "enabled", "condition": {}},
        "event": {"user_id": str(1000 + n), "user_login": "viewer%d" % n,
                  "user_name": "Viewer%d" % n, "broadcaster_user_id": "777",
                  "broadcaster_user_login": "maple", "broadcaster_user_name": "Maple",
                  "followed_at": "2026-03-01T18:04:12.5Z"}}).encode()


def cmd_many(args):
    n = args.count
    socks, results = [], []
    lock = threading.Lock()
    for i in range(n):
        socks.append(connect(args))
    barrier = threading.Barrier(n)

    def run(i):
        head, body = request_bytes(args, "%s-%06d" % (args.prefix, i), "notification",
                                   follow_body(i))
        barrier.wait()
        try:
            socks[i].sendall(head + body)
        except OSError:
            pass
        r = read_response(socks[i])
        with lock:
            results.append(r[0])
        socks[i].close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.timeout)
    counts = {}
    for r in results:
        counts[r] = counts.get(r, 0) + 1
    for k in sorted(counts):
        print(k, counts[k])


def cmd_sequence(args):
    deadline = time.monotonic() + args.timeout
    retries = 0
    for i in range(1, args.count + 1):
        while True:
            head, body = request_bytes(args, "%s-%06d" % (args.prefix, i), "notification",
                                       follow_body(i))
            status, _ = exchange(args, head, body)
            if 200 <= status < 300:
                break
            if status != 503 or time.monotonic() > deadline:
                print("message %d: %d" % (i, status))
                sys.exit(1)
            retries += 1
            if args.ready and not os.path.exists(args.ready):
                open(args.ready, "w").write("503\n")
            time.sleep(0.05)  # Twitch backs off before delivering again
    print("sent %d retries %d" % (args.count, retries))


def cmd_keepalive(args):
    """--count follows (ids PREFIX-000001...) one at a time on one connection, each sent once the
    answer to the one before is in, as Twitch sends: per request its status and the answer's
    Connection header; "closed" when the server closed the connection instead."""
    with connect(args) as s:
        for i in range(1, args.count + 1):
            LAST.pop("connection", None)
            head, body = request_bytes(args, "%s-%06d" % (args.prefix, i), "notification",
                                       follow_body(i))
            try:
                s.sendall(head + body)
            except (ConnectionResetError, BrokenPipeError):
                print("closed")
                return
            status, text = read_response(s)
            if status == 0:
                print("closed")
                return
            print(status, "connection:", LAST.get("connection", "(none)"))


def cmd_raw(args):
    data = args.data.encode().decode("unicode_escape").encode("latin-1")
    status, text = exchange(args, data, b"")
    print(status, text.strip())


def cmd_slow(args):
    head, body = request_bytes(args, str(uuid.uuid4()), "notification", follow_body(1))
    start = time.monotonic()
    with connect(args) as s:
        s.sendall(head)
        for b in body:
            try:
                s.sendall(bytes([b]))
            except OSError:
                break
            s.settimeout(args.every)
            try:
                got = s.recv(4096)
                if not got:
                    print("closed after %d" % round(time.monotonic() - start))
                    return
                print("status", got.split(b" ")[1].decode())
                return
            except socket.timeout:
                pass
            except ConnectionResetError:
                print("closed after %d" % round(time.monotonic() - start))
                return
            if time.monotonic() - start > args.timeout:
                print("still open")
                return
    print("body sent")


def cmd_big(args):
    head, _ = request_bytes(args, str(uuid.uuid4()), "notification", b"",
                            extra={"Content-Length": str(args.length)})
    with connect(args) as s:
        s.sendall(head)
        try:
            s.sendall(b"x" * args.send)
        except OSError:
            pass
        status, text = read_response(s)
        print(status, text.strip())


def cmd_inflight(args):
    body = follow_body(7)
    head, body = request_bytes(args, args.id or str(uuid.uuid4()), "notification", body)
    with connect(args) as s:
        s.sendall(head + body[: len(body) // 2])
        open(args.ready, "w").write("ready\n")
        deadline = time.monotonic() + args.timeout
        while not os.path.exists(args.go) and time.monotonic() < deadline:
            time.sleep(0.02)
        s.sendall(body[len(body) // 2:])
        status, text = read_response(s)
        print(status, text.strip())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("command")
    p.add_argument("files", nargs="*")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--secret", default=os.environ.get("TWITCH_HOOK_SECRET", ""))
    p.add_argument("--path", default="/eventsub")
    p.add_argument("--method", default="POST")
    p.add_argument("--type", default="notification")
    p.add_argument("--id")
    p.add_argument("--body", default="")
    p.add_argument("--golden")
    p.add_argument("--age", type=float, default=0.0)
    p.add_argument("--forge", action="store_true")
    p.add_argument("--show-type", action="store_true")
    p.add_argument("--show-connection", action="store_true")
    p.add_argument("--tls", help="HTTPS, trusting this CA certificate (PEM)")
    p.add_argument("--omit", action="append")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--prefix", default="msg")
    p.add_argument("--data", default="")
    p.add_argument("--every", type=float, default=1.0)
    p.add_argument("--length", type=int, default=0)
    p.add_argument("--send", type=int, default=0)
    p.add_argument("--ready")
    p.add_argument("--go")
    p.add_argument("--timeout", type=float, default=20.0)
    args = p.parse_args()
    globals()["cmd_" + args.command](args)


if __name__ == "__main__":
    main()
