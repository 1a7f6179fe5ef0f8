#!/usr/bin/python3
"""A fake EventSub WebSocket server (wss://eventsub.wss.twitch.tv/ws) over TLS, with a fake
Helix (the EventSub subscriptions API and user lookup) in the same process, so that it knows
which subscriptions belong to which session. It follows what Twitch documents (twitch-protocols.md sections 1, 3, 5, 6):

- session_welcome first, with keepalive_timeout_seconds from the URL's query (clamped to
  --min-keepalive..600; default 10); a connection with no subscription bound to its session
  within --window seconds of the welcome is closed with 4003;
- session_keepalive whenever nothing else was sent for keepalive_timeout_seconds;
- any text or binary frame from the client closes the connection with 4001;
- when a connection ends other than by a completed session_reconnect, its subscriptions are
  disabled (websocket_disconnected), unless the scenario keeps them as orphans;
- session_reconnect carries a reconnect_url (this server, ?challenge=...&id=SESSION); the old
  socket keeps delivering until the new one is welcomed (same session id, the subscriptions
  move), and an old socket not closed by the client within --grace seconds gets 4004; a
  reconnect URL with an unknown id gets 4007.

Scenarios (--scenario), each about the first connection; later connections are plain (welcome,
the notifications of the golden files for what they subscribed, keepalives):
  events     the golden notifications (tests/data/eventsub/*.json, timestamps made current) of
             every subscribed type, then a duplicate of the first and one 11 minutes old
  burst      the same, every frame written in one TCP segment
  reconnect  --reconnects N hand-overs; during each, the old socket sends notifications until
             the new one's welcome, and the new one repeats the last of them (a duplicate)
  silence    one notification, then nothing at all (no keepalive)
  orphan     as silence, and the session's subscriptions stay enabled (Twitch has not seen the
             socket die): the next session's creations get 409
  close:CODE one notification, then a close with CODE (4000-4007)
  revoke:R   one notification, then a revocation of every subscription with status R
  badreconnect  a session_reconnect whose URL gets 4007
  numbered   --count notifications numbered 1..N (channel.follow), paced by --interval-ms

With --conduit, every fresh connection instead waits until its session holds an enabled shard of
a conduit (PATCH /helix/eventsub/conduits/shards) and the conduit has --expect subscriptions,
then sends one notification (of the golden file of its type, for its condition's broadcaster)
for each conduit subscription FakeHelix.conduit_route() gives to its shard: a shard whose socket
dropped gets nothing until it is attached again. The first --silences connections of
--scenario drop then close with 4006 (network error) after sending.

Helix is tests/fakes/helix.py's FakeHelix (page size 2, so that the client follows cursors);
--create-faults answers the first POSTs with the statuses given, in order; --list-faults N the
first N subscription lists with 500. Prints
"helix on 127.0.0.1:PORT" (Helix's base URL is https://127.0.0.1:PORT/helix), then
"listening on 127.0.0.1:PORT" (the WebSocket). --log FILE gets one line per thing a test checks:
"welcome SESSION n=N", "closed SESSION code=C by=client|server", "sent SESSION ID", "4003
SESSION", "inbound SESSION", plus Helix's own lines. Every loop is bounded: the server exits
after --lifetime seconds.
"""
import argparse
import asyncio
import glob
import json
import os
import ssl
import sys
import time
import urllib.parse
import uuid

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helix import FakeHelix  # noqa: E402  (tests/fakes/helix.py)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "eventsub")


def now_rfc3339(offset_s=0.0):
    t = time.time() + offset_s
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def golden_messages():
    """Every WebSocket notification of the golden files, in file order."""
    out = []
    dec = json.JSONDecoder()
    for path in sorted(glob.glob(os.path.join(DATA, "*.json"))):
        text = open(path).read()
        i = 0
        while True:
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                break
            obj, i = dec.raw_decode(text, i)
            if "metadata" in obj and obj["metadata"].get("message_type") == "notification":
                out.append(obj)
    return out



class Conn:
    def __init__(self, ws, sid, n, reconnect):
        self.ws = ws
        self.sid = sid
        self.n = n  # 1 for the first fresh connection
        self.reconnect = reconnect  # opened through a reconnect_url
        self.last_sent = time.monotonic()
        self.closed = asyncio.Event()
        self.welcomed = asyncio.Event()
        self.keep_orphans = False
        self.moved = False  # its session moved to a successor
        self.silent = False
        self.handed = asyncio.Event()  # a hand-over to this socket was set up
        self.ready = asyncio.Event()  # it has sent what a hand-over leaves to it
        self.pending_repeat = None
        self.next_number = 0


class Server:
    def __init__(self, args):
        self.args = args
        self.helix = new_helix(args)
        self.port = 0
        self.fresh = 0
        self.sessions = {}  # session id -> the Conn that holds it now
        self.successor = {}  # session id -> asyncio.Event set when the new socket is welcomed
        self.golden = golden_messages()

    def log(self, line):
        if self.args.log:
            with open(self.args.log, "a") as f:
                f.write(line + "\n")

    async def send(self, c, msg):
        text = msg if isinstance(msg, str) else json.dumps(msg)
        await c.ws.send(text)
        c.last_sent = time.monotonic()

    def envelope(self, mtype, payload, sub=None, msg_id=None, ts=None):
        md = {"message_id": msg_id or str(uuid.uuid4()), "message_type": mtype,
              "message_timestamp": ts or now_rfc3339()}
        if sub:
            md["subscription_type"] = sub["type"]
            md["subscription_version"] = sub["version"]
        return {"metadata": md, "payload": payload}

    def welcome(self, c, keepalive):
        return self.envelope("session_welcome", {"session": {
            "id": c.sid, "status": "connected", "connected_at": now_rfc3339(),
            "keepalive_timeout_seconds": keepalive, "reconnect_url": None}})

    def subscribed(self, sid):
        return [s for s in self.helix.subscriptions_of(sid) if s["status"] == "enabled"]

    def notification(self, c, golden, msg_id=None, ts=None):
        """|golden| as this session would get it: its subscription, a current timestamp."""
        md = golden["metadata"]
        subs = [s for s in self.subscribed(c.sid) if s["type"] == md["subscription_type"]]
        if not subs:
            return None
        payload = json.loads(json.dumps(golden["payload"]))
        # The golden condition (a raid from the channel differs from one to it), our ids.
        for k in ("id", "status", "transport", "created_at"):
            payload["subscription"][k] = subs[0][k]
        return self.envelope("notification", payload, subs[0], msg_id or md["message_id"], ts)

    def numbered(self, c, i):
        subs = [s for s in self.subscribed(c.sid) if s["type"] == "channel.follow"]
        if not subs:
            return None
        event = {"user_id": str(1000 + i), "user_login": "viewer%d" % i,
                 "user_name": "Viewer%d" % i, "broadcaster_user_id": "777000222",
                 "broadcaster_user_login": "maplecrate", "broadcaster_user_name": "MapleCrate",
                 "followed_at": now_rfc3339()}
        return self.envelope("notification", {"subscription": subs[0], "event": event}, subs[0],
                             "n-%06d" % i)

    async def wait_subscribed(self, c, want=None):
        want = want or self.args.expect
        for _ in range(int(self.args.window * 20) + 100):
            if len(self.subscribed(c.sid)) >= want or c.closed.is_set():
                return len(self.subscribed(c.sid)) >= want
            await asyncio.sleep(0.05)
        return False

    async def keepalives(self, c, keepalive):
        while not c.closed.is_set():
            await asyncio.sleep(0.1)
            if c.silent or c.moved:
                continue
            if time.monotonic() - c.last_sent >= keepalive:
                try:
                    await self.send(c, self.envelope("session_keepalive", {}))
                except websockets.ConnectionClosed:
                    return

    async def window(self, c):
        await asyncio.sleep(self.args.window)
        attached = self.helix.shard_of_session(c.sid) is not None
        if not c.closed.is_set() and not c.reconnect and not self.subscribed(c.sid) and \
                not attached:
            self.log("4003 %s" % c.sid)
            await c.ws.close(4003, "connection unused")

    async def inbound(self, c):
        try:
            async for _ in c.ws:
                self.log("inbound %s" % c.sid)
                await c.ws.close(4001, "client sent inbound traffic")
                return
        except websockets.ConnectionClosed:
            pass

    async def handler(self, ws, path):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
        keepalive = int(q.get("keepalive_timeout_seconds", [10])[0])
        keepalive = max(self.args.min_keepalive, min(600, keepalive))
        old = None
        if "id" in q:  # a reconnect_url
            sid = q["id"][0]
            old = self.sessions.get(sid)
            if old is None or sid not in self.successor:
                c = Conn(ws, sid, 0, True)
                self.log("4007 %s" % sid)
                await ws.close(4007, "invalid reconnect")
                return
            c = Conn(ws, sid, old.n, True)
        else:
            self.fresh += 1
            c = Conn(ws, "sess-%d-%s" % (self.fresh, uuid.uuid4().hex[:8]), self.fresh, False)
        self.sessions[c.sid] = c
        self.helix.add_session(c.sid)
        tasks = [asyncio.ensure_future(self.inbound(c)),
                 asyncio.ensure_future(self.keepalives(c, keepalive))]
        watcher = asyncio.ensure_future(self.watch_close(c, tasks))
        try:
            await self.send(c, self.welcome(c, keepalive))
            self.log("welcome %s n=%d%s" % (c.sid, c.n, " reconnect" if c.reconnect else ""))
            c.welcomed.set()
            if old is not None:
                old.moved = True
                self.successor[c.sid].set()
            else:
                tasks.append(asyncio.ensure_future(self.window(c)))
            await self.scenario(c)
        except websockets.ConnectionClosed:
            pass
        await watcher

    async def watch_close(self, c, tasks):
        await c.ws.wait_closed()
        c.closed.set()
        for t in tasks:
            t.cancel()
        by = "client" if c.ws.close_rcvd_then_sent else "server"
        self.log("closed %s code=%s by=%s" % (c.sid, c.ws.close_code, by))
        if self.sessions.get(c.sid) is c:
            del self.sessions[c.sid]
            if c.keep_orphans:  # Twitch has not seen it die: its subscriptions stay enabled
                with self.helix.lock:
                    self.helix.sessions.discard(c.sid)
            else:
                self.helix.disconnect_session(c.sid, "websocket_disconnected")

    async def scenario(self, c):
        first = c.n <= max(1, self.args.silences)
        sc = self.args.scenario if first and not c.reconnect else "plain"
        if c.reconnect:
            return await self.after_reconnect(c)
        if self.args.conduit:
            return await self.conduit_delivery(c, first and sc == "drop")
        if not await self.wait_subscribed(c):
            return
        if sc in ("events", "burst", "plain"):
            msgs = [m for m in (self.notification(c, g) for g in self.golden) if m]
            if sc == "events" and msgs:
                msgs.append(msgs[0])  # a resend: the same message id
                stale = self.notification(c, self.golden_of(msgs[0]), "stale-0001",
                                          now_rfc3339(-11 * 60))
                msgs.append(stale)
            if sc == "burst":
                frames = b"".join(frame(json.dumps(m)) for m in msgs)
                c.ws.transport.write(frames)
                c.last_sent = time.monotonic()
            else:
                for m in msgs:
                    await self.send(c, m)
            for m in msgs:
                self.log("sent %s %s" % (c.sid, m["metadata"]["message_id"]))
            return
        first = [m for m in (self.notification(c, g) for g in self.golden) if m][:1]
        for m in first:
            await self.send(c, m)
            self.log("sent %s %s" % (c.sid, m["metadata"]["message_id"]))
        if sc in ("silence", "orphan"):
            c.silent = True
            c.keep_orphans = sc == "orphan"
        elif sc.startswith("close:"):
            await c.ws.close(int(sc.split(":")[1]), "scenario")
        elif sc.startswith("revoke:"):
            reason = sc.split(":", 1)[1]
            for s in self.subscribed(c.sid):
                s = dict(s, status=reason)
                with self.helix.lock:
                    self.helix.subscriptions[s["id"]]["status"] = reason
                await self.send(c, self.envelope("revocation", {"subscription": s}, s))
        elif sc == "reconnect":
            await self.handovers(c)
        elif sc == "badreconnect":  # a reconnect_url this server does not know: 4007 there
            url = "wss://127.0.0.1:%d/ws?challenge=x&id=no-such-session" % self.port
            await self.send(c, self.envelope("session_reconnect", {"session": {
                "id": c.sid, "status": "reconnecting", "keepalive_timeout_seconds": None,
                "reconnect_url": url, "connected_at": now_rfc3339()}}))
        elif sc == "numbered":
            for i in range(1, self.args.count + 1):
                m = self.numbered(c, i)
                await self.send(c, m)
                if self.args.interval_ms:
                    await asyncio.sleep(self.args.interval_ms / 1000)
            self.log("numbered done %s" % c.sid)

    async def conduit_delivery(self, c, drop):
        """The notifications of the conduit subscriptions routed to |c|'s shard, once."""
        shard = None
        for _ in range(int(self.args.window * 20) + 100):
            shard = self.helix.shard_of_session(c.sid)
            if shard and len(self.helix.conduit_route(shard[0])) >= self.args.expect:
                break
            if c.closed.is_set():
                return
            await asyncio.sleep(0.05)
        else:
            return
        conduit_id, mine = shard
        for k, (sub, to) in enumerate(self.helix.conduit_route(conduit_id)):
            if to != mine:
                continue
            m = self.conduit_notification(c, sub, k)
            await self.send(c, m)
            self.log("sent %s %s shard=%d %s" % (c.sid, m["metadata"]["message_id"], mine,
                                                 sub["condition"].get("broadcaster_user_id")))
        self.log("conduit done %s shard=%d" % (c.sid, mine))
        if drop:
            await c.ws.close(4006, "network error")

    def conduit_notification(self, c, sub, k):
        """The golden notification of |sub|'s type, for its broadcaster."""
        g = next((g for g in self.golden if g["metadata"]["subscription_type"] == sub["type"]),
                 self.golden[0])
        payload = json.loads(json.dumps(g["payload"]))
        payload["subscription"] = sub
        bid = sub["condition"].get("broadcaster_user_id", "")
        with self.helix.lock:
            user = next((u for u in self.helix.users.values() if u["id"] == bid), None)
        ev = payload.get("event", {})
        if user and "broadcaster_user_id" in ev:
            ev.update(broadcaster_user_id=bid, broadcaster_user_login=user["login"],
                      broadcaster_user_name=user["display_name"])
        return self.envelope("notification", payload, sub, "c%d-%d-%s" % (c.n, k, sub["id"][:8]))

    def golden_of(self, msg):
        for g in self.golden:
            if g["metadata"]["message_id"] == msg["metadata"]["message_id"]:
                return g
        return self.golden[0]

    async def handovers(self, c):
        i = 0
        for k in range(self.args.reconnects):
            ev = asyncio.Event()
            self.successor[c.sid] = ev
            url = "wss://127.0.0.1:%d/ws?challenge=%s&id=%s" % (self.port, uuid.uuid4(), c.sid)
            await self.send(c, self.envelope("session_reconnect", {"session": {
                "id": c.sid, "status": "reconnecting", "keepalive_timeout_seconds": None,
                "reconnect_url": url, "connected_at": now_rfc3339()}}))
            self.log("reconnect %s %d" % (c.sid, k + 1))
            # The old socket delivers until the new one is welcomed.
            last = None
            for _ in range(int(self.args.handover_wait * 50)):
                if ev.is_set():
                    break
                i += 1
                last = self.numbered(c, i)
                await self.send(c, last)
                await asyncio.sleep(0.02)
            if not ev.is_set():
                return
            new = self.sessions[c.sid]
            new.pending_repeat = last
            new.next_number = i
            new.handed.set()
            await new.ready.wait()
            i += 1
            # An old socket the client does not close goes after the grace time.
            try:
                await asyncio.wait_for(c.closed.wait(), self.args.grace)
            except asyncio.TimeoutError:
                self.log("4004 %s" % c.sid)
                await c.ws.close(4004, "reconnect grace time expired")
            c = new
        self.log("handovers done %s" % c.sid)

    async def after_reconnect(self, c):
        try:
            await asyncio.wait_for(c.handed.wait(), 5)
        except asyncio.TimeoutError:
            return
        if c.pending_repeat is not None:
            await self.send(c, c.pending_repeat)  # the same message on both sockets
        await self.send(c, self.numbered(c, c.next_number + 1))
        c.ready.set()


def frame(text):
    """One unmasked server text frame."""
    data = text.encode()
    n = len(data)
    if n < 126:
        head = bytes([0x81, n])
    elif n < 65536:
        head = bytes([0x81, 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 127]) + n.to_bytes(8, "big")
    return head + data


def new_helix(args):
    """FakeHelix with the test's users, tokens and faults."""
    hx = FakeHelix(client_id=args.client_id, log=args.log, page_size=2)
    for spec in args.user:
        login, uid = spec.split(":")
        hx.add_user(login, uid, login.capitalize())
    # The stored token, and those the fake id.twitch.tv hands out when it refreshes ("acc...").
    uid = args.user[0].split(":")[1] if args.user else "777000222"
    hx.add_token(args.token, user_id=uid)
    hx.accept_prefix("acc", user_id=uid)
    hx.accept_prefix("app", kind="app")  # the app tokens of the fake id.twitch.tv
    hx.on_create = lambda sub: hx.log("create %s %s" % (
        sub["type"], sub["transport"].get("session_id") or
        "conduit=%s %s" % (sub["transport"].get("conduit_id"), json.dumps(sub["condition"]))))
    for status in [int(x) for x in args.create_faults.split(",") if x]:
        hx.fail("POST", "/helix/eventsub/subscriptions", status)
    if args.list_faults:
        hx.fail("GET", "/helix/eventsub/subscriptions", 500, args.list_faults)
    return hx


async def main_async(args):
    srv = Server(args)
    srv.helix.port = srv.helix.start(args.cert, args.key)
    hx = srv.helix
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    async with websockets.serve(srv.handler, "127.0.0.1", 0, ssl=ctx, ping_interval=5,
                                ping_timeout=10, max_size=1 << 20) as ws_server:
        srv.port = ws_server.sockets[0].getsockname()[1]
        print("helix on 127.0.0.1:%d" % hx.port, flush=True)
        print("listening on 127.0.0.1:%d" % srv.port, flush=True)
        await asyncio.sleep(args.lifetime)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--log")
    p.add_argument("--scenario", default="events")
    p.add_argument("--expect", type=int, default=1,
                   help="subscriptions a session must have before its scenario starts")
    p.add_argument("--window", type=float, default=10, help="seconds to the first subscription")
    p.add_argument("--grace", type=float, default=5, help="seconds the old socket stays")
    p.add_argument("--min-keepalive", type=int, default=10)
    p.add_argument("--reconnects", type=int, default=1)
    p.add_argument("--handover-wait", type=float, default=8,
                   help="seconds the old socket waits for the new one's welcome")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--silences", type=int, default=1,
                   help="how many fresh connections play the scenario (silence: N drops)")
    p.add_argument("--interval-ms", type=int, default=0)
    p.add_argument("--conduit", action="store_true",
                   help="connections are conduit shards: deliver the conduit's notifications")
    p.add_argument("--lifetime", type=float, default=60)
    p.add_argument("--create-faults", default="",
                   help="statuses for the first POSTs, comma-separated (401,403,429,500)")
    p.add_argument("--list-faults", type=int, default=0,
                   help="the first N GET /eventsub/subscriptions are answered 500")
    p.add_argument("--client-id", default="cid0123456789")
    p.add_argument("--token", default="tok-1", help="a user token Helix accepts")
    p.add_argument("--user", action="append", default=[],
                   help="LOGIN:ID of a user Helix knows (the first is the token's)")
    args = p.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
