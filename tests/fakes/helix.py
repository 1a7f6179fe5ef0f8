#!/usr/bin/python3
"""A fake Helix (api.twitch.tv/helix) over TLS: EventSub subscriptions and the user lookup.

Follows what Twitch documents (twitch-protocols.md sections 3.5, 4, 5), awkward parts included:
POST /helix/eventsub/subscriptions answers 202 with {"data":[sub],"total","total_cost",
"max_total_cost"}; a websocket transport needs a user token, a webhook or conduit one an app
token (else 401); a type whose scope the token lacks is 403; the same type + condition while one
is enabled (or pending) is 409, an orphan of a dead session included; a webhook subscription starts
as webhook_callback_verification_pending and the fake then POSTs the signed
webhook_callback_verification challenge to its callback, as Twitch does: enabled when the callback
answers 200 text/plain with the bare challenge, else webhook_callback_verification_failed.
GET lists (status or type, not both; user_id; subscription_id; "after" cursor, page_size at a
time), a user token seeing its user's websocket subscriptions, an app token its client's webhook
and conduit ones. DELETE ?id= answers 204, or 404. GET /helix/users?login=..&id=.. answers the
known users (unknown ones are absent).

Conduits (twitch-protocols.md section 3.7), app token only (a user token: 401): GET/POST/PATCH/
DELETE /helix/eventsub/conduits (shard_count 1..20000, at most 5 conduits per client id: 429;
an unknown id: 404; a lower shard_count drops the shards above it), GET /helix/eventsub/
conduits/shards?conduit_id= (status filter, "after" cursor) and PATCH /helix/eventsub/conduits/
shards, which answers 202 with the shards it updated in "data" and the others in "errors" (a
shard id outside 0..shard_count-1, a websocket session that is not connected); an unknown conduit
is 404. A conduit subscription needs an existing conduit of the client (else 400). When a
session dies (disconnect_session), the shard it held becomes websocket_disconnected until it is
attached again. Errors look like Twitch's:
{"error":"Forbidden","status":403,"message":"..."}; every answer has Ratelimit-* headers.

Standalone: `helix.py --cert C --key K [...]` binds 127.0.0.1 port 0 and prints
"listening on 127.0.0.1:PORT"; --log FILE gets one line per request ("METHOD PATH -> STATUS", and
"verify ID -> enabled|failed: why"), never a token or a secret.

Importable (e.g. by a fake EventSub WebSocket server, in the same process):

    from helix import FakeHelix
    helix = FakeHelix(client_id="cid0123456789")
    helix.add_token("tok", kind="user", user_id="141981764", scopes=[...])   # or accept_prefix()
    helix.add_user("maplecrate", "777000222", "MapleCrate")
    port = helix.start(cert, key)          # a daemon thread serving 127.0.0.1:port
    helix.add_session("AgoQ...")           # sessions the WebSocket side welcomed
    helix.subscriptions_of("AgoQ...")      # [sub dict, ...] bound to that session
    helix.disconnect_session("AgoQ...", "websocket_disconnected")
    helix.stop()

State (read and change it under helix.lock):
  subscriptions  {id: sub}; sub is Twitch's object (id, status, type, version, condition,
                 transport, created_at, cost) plus "_owner" (the user id of a websocket one's token,
                 the client id otherwise) and, for webhooks, "_secret" (never listed).
  tokens         {token: {"kind": "user"|"app", "user_id", "scopes": [...]}}; accept_prefix(p,
                 kind, user_id, scopes) also accepts every token starting with p (twitch_id.py
                 hands out "acc..." user and "app..." app tokens), so tokens the fake id.twitch.tv
                 issued or refreshed work here too.
  users          {login: {"id", "login", "display_name"}}.
  sessions       None (any websocket session id is taken) or a set of live session ids: a
                 session id not in it is 400 "websocket transport session does not exist or has
                 already disconnected", as Twitch answers.
  max_total_cost {"websocket": 10, "webhook": 10000}: over it, 429 "exceeded max total cost".
                 A subscription costs 0 when its condition names the token's user (or an
                 authorized user: authorized_users), 1 otherwise.
  page_size      subscriptions per page of GET (default 100).
  requests       [(method, path), ...] served, in order.
  conduits       {id: {"id", "shard_count", "shards": {shard id (int): {"id", "status",
                 "transport"}}}}; shard_of_session(sid) gives (conduit id, shard id) of an enabled
                 shard; conduit_route(conduit_id) which shard gets each conduit subscription's
                 events (see there).

Hooks: on_create(sub) and on_delete(sub) are called (under the lock) after a subscription was
created or deleted; the default does nothing.

Fault injection: fail(method, path, status, count=1, reset_in=1, message=None) answers the next
|count| requests of |method| on |path| (e.g. "POST", "/helix/eventsub/subscriptions") with
|status| (401, 403, 429 with Ratelimit-Reset |reset_in| s ahead, 500, ...) instead of serving them.
add_orphan(type, version, condition, session_id, owner) puts in an enabled websocket subscription
bound to a session that is gone (not in sessions): the next create of the same type + condition
gets 409 until it is deleted.
"""
import argparse
import hashlib
import hmac
import json
import secrets
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The scopes each subscription type needs (any one of them), as twitch-protocols.md section 6.
SCOPES = {
    "channel.follow": ["moderator:read:followers"],
    "channel.subscribe": ["channel:read:subscriptions"],
    "channel.subscription.message": ["channel:read:subscriptions"],
    "channel.subscription.gift": ["channel:read:subscriptions"],
    "channel.subscription.end": ["channel:read:subscriptions"],
    "channel.cheer": ["bits:read"],
    "channel.bits.use": ["bits:read"],
    "channel.channel_points_custom_reward_redemption.add":
        ["channel:read:redemptions", "channel:manage:redemptions"],
    "channel.channel_points_automatic_reward_redemption.add":
        ["channel:read:redemptions", "channel:manage:redemptions"],
    "channel.hype_train.begin": ["channel:read:hype_train"],
    "channel.hype_train.progress": ["channel:read:hype_train"],
    "channel.hype_train.end": ["channel:read:hype_train"],
    "channel.chat.notification": ["user:read:chat"],
    "channel.chat.message": ["user:read:chat"],
    "channel.charity_campaign.donate": ["channel:read:charity"],
}
ALL_SCOPES = sorted({s for v in SCOPES.values() for s in v})
# Versions Twitch has withdrawn: 410 (hype train v1, follow v1 answer 400 "deprecated").
GONE = {("channel.hype_train.begin", "1"), ("channel.hype_train.progress", "1"),
        ("channel.hype_train.end", "1")}
DEPRECATED = {("channel.follow", "1")}
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           409: "Conflict", 410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error"}
SUBS_PATH = "/helix/eventsub/subscriptions"
CONDUITS_PATH = "/helix/eventsub/conduits"
SHARDS_PATH = "/helix/eventsub/conduits/shards"
MAX_SHARDS = 20000
MAX_CONDUITS = 5


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeHelix:
    def __init__(self, client_id="cid0123456789", log=None, page_size=100):
        self.lock = threading.RLock()
        self.client_id = client_id
        self.log_file = log
        self.page_size = page_size
        self.subscriptions = {}
        self.tokens = {}
        self.prefixes = []  # (prefix, facts)
        self.users = {}
        self.sessions = None
        self.authorized_users = set()
        self.max_total_cost = {"websocket": 10, "webhook": 10000}
        self.requests = []
        self.faults = []  # [method, path, status, count, reset_in, message]
        self.allow_http_callbacks = False
        self.callback_cafile = None
        self.verify_delay_s = 0.05
        self.on_create = lambda sub: None
        self.on_delete = lambda sub: None
        self.server = None
        self.thread = None
        self.conduits = {}

    # --- configuration -------------------------------------------------------------------------
    def add_token(self, token, kind="user", user_id="141981764", scopes=None):
        with self.lock:
            self.tokens[token] = {"kind": kind, "user_id": user_id if kind == "user" else "",
                                  "scopes": list(ALL_SCOPES if scopes is None else scopes)}

    def accept_prefix(self, prefix, kind="user", user_id="141981764", scopes=None):
        with self.lock:
            self.prefixes.append((prefix, {"kind": kind,
                                           "user_id": user_id if kind == "user" else "",
                                           "scopes": list(ALL_SCOPES if scopes is None
                                                          else scopes)}))

    def add_user(self, login, user_id, display_name=None):
        with self.lock:
            self.users[login] = {"id": user_id, "login": login,
                                 "display_name": display_name or login}

    def add_session(self, session_id):
        with self.lock:
            if self.sessions is None:
                self.sessions = set()
            self.sessions.add(session_id)

    def disconnect_session(self, session_id, status="websocket_disconnected"):
        """The session died: its subscriptions become disabled with |status|."""
        with self.lock:
            if self.sessions is not None:
                self.sessions.discard(session_id)
            for s in self.subscriptions.values():
                t = s["transport"]
                if t.get("session_id") == session_id and s["status"] == "enabled":
                    s["status"] = status
                    t["disconnected_at"] = now_rfc3339()
            for c in self.conduits.values():  # its shard stops receiving until attached again
                for sh in c["shards"].values():
                    t = sh["transport"]
                    if t.get("session_id") == session_id and sh["status"] == "enabled":
                        sh["status"] = status
                        t["disconnected_at"] = now_rfc3339()

    def shard_of_session(self, session_id):
        """(conduit id, shard id) of the enabled shard |session_id| holds, or None."""
        with self.lock:
            for c in self.conduits.values():
                for i, sh in c["shards"].items():
                    if sh["status"] == "enabled" and sh["transport"].get("session_id") == session_id:
                        return c["id"], i
        return None

    def conduit_route(self, conduit_id):
        """[(sub, shard id or None)]: the conduit's enabled subscriptions (oldest first), the k-th
        sent to shard k mod shard_count; when that shard is not enabled, Twitch tries one other
        shard (here the next one); None when that one is not enabled either (the event is lost)."""
        with self.lock:
            c = self.conduits.get(conduit_id)
            if not c:
                return []
            subs = sorted((s for s in self.subscriptions.values()
                           if s["transport"].get("conduit_id") == conduit_id and
                           s["status"] == "enabled"), key=lambda s: (s["created_at"], s["id"]))
            n = c["shard_count"]

            def up(i):
                sh = c["shards"].get(i)
                return sh is not None and sh["status"] == "enabled"
            out = []
            for k, sub in enumerate(subs):
                first, other = k % n, (k + 1) % n
                out.append((self.public(sub), first if up(first) else other if up(other) else None))
            return out

    def subscriptions_of(self, session_id):
        with self.lock:
            return [self.public(s) for s in self.subscriptions.values()
                    if s["transport"].get("session_id") == session_id]

    def fail(self, method, path, status, count=1, reset_in=1, message=None):
        with self.lock:
            self.faults.append([method, path, status, count, reset_in, message])

    def add_orphan(self, type_, version, condition, session_id, owner="141981764"):
        with self.lock:
            sub = self.new_sub(type_, version, condition,
                               {"method": "websocket", "session_id": session_id,
                                "connected_at": now_rfc3339()}, owner, 0)
            sub["status"] = "enabled"
            return sub["id"]

    # --- running -------------------------------------------------------------------------------
    def start(self, cert, key, host="127.0.0.1"):
        helix = self

        class H(Handler):
            fake = helix

        self.server = ThreadingHTTPServer((host, 0), H)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self.server.server_address[1]

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # --- the model -----------------------------------------------------------------------------
    def log(self, line):
        if self.log_file:
            with open(self.log_file, "a") as f:
                f.write(line + "\n")

    def facts(self, token):
        with self.lock:
            if token in self.tokens:
                return self.tokens[token]
            for prefix, facts in reversed(self.prefixes):  # the last one given wins
                if token.startswith(prefix):
                    return facts
        return None

    def new_sub(self, type_, version, condition, transport, owner, cost):
        sub = {"id": str(uuid.uuid4()), "status": "enabled", "type": type_, "version": version,
               "condition": condition, "created_at": now_rfc3339(), "transport": transport,
               "cost": cost, "_owner": owner}
        self.subscriptions[sub["id"]] = sub
        return sub

    @staticmethod
    def public(sub):
        return {k: v for k, v in sub.items() if not k.startswith("_")}

    def visible(self, facts):
        """The subscriptions a token sees: its user's websocket ones, or its client's others."""
        if facts["kind"] == "user":
            return [s for s in self.subscriptions.values()
                    if s["transport"]["method"] == "websocket" and s["_owner"] == facts["user_id"]]
        return [s for s in self.subscriptions.values()
                if s["transport"]["method"] != "websocket" and s["_owner"] == self.client_id]

    def totals(self, facts):
        mine = self.visible(facts)
        method = "websocket" if facts["kind"] == "user" else "webhook"
        return {"total": len(mine),
                "total_cost": sum(s["cost"] for s in mine if s["status"] in LIVE),
                "max_total_cost": self.max_total_cost[method]}

    def verify(self, sub_id):
        """Twitch's webhook_callback_verification: a signed challenge POSTed to the callback."""
        time.sleep(self.verify_delay_s)
        with self.lock:
            sub = self.subscriptions.get(sub_id)
            if not sub:
                return
            body = json.dumps({"challenge": "chal-" + secrets.token_hex(8),
                               "subscription": self.public(sub)}).encode()
            secret, url = sub["_secret"], sub["transport"]["callback"]
        challenge = json.loads(body)["challenge"]
        mid, ts = str(uuid.uuid4()), now_rfc3339()
        sig = hmac.new(secret.encode(), mid.encode() + ts.encode() + body,
                       hashlib.sha256).hexdigest()
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            "Twitch-Eventsub-Message-Id": mid,
            "Twitch-Eventsub-Message-Retry": "0",
            "Twitch-Eventsub-Message-Type": "webhook_callback_verification",
            "Twitch-Eventsub-Message-Signature": "sha256=" + sig,
            "Twitch-Eventsub-Message-Timestamp": ts,
            "Twitch-Eventsub-Subscription-Type": sub["type"],
            "Twitch-Eventsub-Subscription-Version": sub["version"]})
        why = ""
        try:
            ctx = ssl.create_default_context(cafile=self.callback_cafile)
            with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
                got = r.read().decode(errors="replace")
                ctype = r.headers.get("Content-Type", "")
                if r.status != 200:
                    why = "status %d" % r.status
                elif got != challenge:
                    why = "the body is not the bare challenge"
                elif not ctype.startswith("text/plain"):
                    why = "Content-Type %s" % ctype
        except urllib.error.HTTPError as e:
            why = "status %d" % e.code
        except Exception as e:  # noqa: BLE001 (any failure to reach the callback)
            why = str(e)
        with self.lock:
            sub = self.subscriptions.get(sub_id)
            if sub and sub["status"] == "webhook_callback_verification_pending":
                sub["status"] = "webhook_callback_verification_failed" if why else "enabled"
        self.log("verify %s -> %s" % (sub_id, "failed: " + why if why else "enabled"))


LIVE = ("enabled", "webhook_callback_verification_pending")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None

    def log_message(self, *a):
        pass

    def reply(self, status, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Ratelimit-Limit", "800")
        self.send_header("Ratelimit-Remaining", "799")
        self.send_header("Ratelimit-Reset", str(int(time.time()) + 60))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.fake.log("%s %s -> %d" % (self.command, self.path, status))

    def error(self, status, message, headers=None):
        self.reply(status, {"error": REASONS.get(status, "Error"), "status": status,
                            "message": message}, headers)

    def route(self):
        u = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(u.query)
        n = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(n) if n else b""
        f = self.fake
        with f.lock:
            f.requests.append((self.command, u.path))
            for fault in f.faults:
                if fault[0] == self.command and fault[1] == u.path and fault[3] > 0:
                    fault[3] -= 1
                    status, reset_in, message = fault[2], fault[4], fault[5]
                    break
            else:
                status = None
        if status == 429:
            reset = str(int(time.time()) + reset_in)
            return self.error(429, message or "Too Many Requests",
                              {"Ratelimit-Remaining": "0", "Ratelimit-Reset": reset})
        if status:
            return self.error(status, message or REASONS.get(status, "Error"))
        auth = self.headers.get("Authorization", "")
        facts = f.facts(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None
        if not facts:
            return self.error(401, "Invalid OAuth token")
        if self.headers.get("Client-Id") != f.client_id:
            return self.error(401, "Client ID and OAuth token do not match")
        routes = {("POST", SUBS_PATH): self.create, ("GET", SUBS_PATH): self.list,
                  ("DELETE", SUBS_PATH): self.delete, ("GET", "/helix/users"): self.users,
                  ("GET", CONDUITS_PATH): self.conduits, ("POST", CONDUITS_PATH): self.conduits,
                  ("PATCH", CONDUITS_PATH): self.conduits,
                  ("DELETE", CONDUITS_PATH): self.conduits,
                  ("GET", SHARDS_PATH): self.shards, ("PATCH", SHARDS_PATH): self.shards}
        handler = routes.get((self.command, u.path))
        if not handler:
            return self.error(404, "Not Found")
        handler(facts)

    do_GET = do_POST = do_DELETE = do_PATCH = route

    def q(self, key):
        return (self.query.get(key) or [""])[0]

    def create(self, facts):
        f = self.fake
        try:
            req = json.loads(self.body)
        except ValueError:
            return self.error(400, "invalid JSON body")
        type_, version = req.get("type", ""), req.get("version", "")
        cond, tr = req.get("condition"), req.get("transport") or {}
        method = tr.get("method")
        if not type_ or not version:
            return self.error(400, "missing type or version")
        if not isinstance(cond, dict) or not cond:
            return self.error(400, "missing or invalid condition")
        if (type_, version) in GONE:
            return self.error(410, "the subscription type and version have been removed")
        if (type_, version) in DEPRECATED:
            return self.error(400, "cannot use deprecated subscription type and version")
        transport = {"method": method}
        if method == "websocket":
            if facts["kind"] != "user":
                return self.error(401, "websocket transport requires a user access token")
            sid = tr.get("session_id", "")
            if not sid:
                return self.error(400, "missing session_id")
            with f.lock:
                if f.sessions is not None and sid not in f.sessions:
                    return self.error(400, "websocket transport session does not exist or has "
                                           "already disconnected")
            transport.update(session_id=sid, connected_at=now_rfc3339())
            owner = facts["user_id"]
        elif method in ("webhook", "conduit"):
            if facts["kind"] != "app":
                return self.error(401, "%s transport requires an app access token" % method)
            owner = f.client_id
            if method == "webhook":
                cb, secret = tr.get("callback", ""), tr.get("secret", "")
                if not cb:
                    return self.error(400, "missing callback")
                if not cb.startswith("https://") and not (f.allow_http_callbacks and
                                                          cb.startswith("http://")):
                    return self.error(400, "callback must use https on port 443")
                if not 10 <= len(secret) <= 100:
                    return self.error(400, "secret must be between 10 and 100 characters")
                transport["callback"] = cb
            else:
                if not tr.get("conduit_id"):
                    return self.error(400, "missing conduit_id")
                if tr["conduit_id"] not in f.conduits:
                    return self.error(400, "conduit does not exist")
                transport["conduit_id"] = tr["conduit_id"]
        else:
            return self.error(400, "invalid transport method")
        scopes = SCOPES.get(type_, [])
        if scopes and not set(scopes) & set(facts["scopes"]):
            return self.error(403, "subscription missing proper authorization")
        with f.lock:
            for s in f.subscriptions.values():
                if (s["type"] == type_ and s["condition"] == cond and s["status"] in LIVE and
                        s["_owner"] == owner):
                    return self.error(409, "subscription already exists")
            me = facts["user_id"]
            cost = 0 if (me and me in cond.values()) or (set(cond.values()) &
                                                         f.authorized_users) else 1
            kind = "websocket" if method == "websocket" else "webhook"
            used = sum(s["cost"] for s in f.visible(facts) if s["status"] in LIVE)
            if used + cost > f.max_total_cost[kind]:
                return self.error(429, "exceeded max total cost")
            sub = f.new_sub(type_, version, cond, transport, owner, cost)
            if method == "webhook":
                sub["status"] = "webhook_callback_verification_pending"
                sub["_secret"] = tr["secret"]
            f.on_create(f.public(sub))
            body = {"data": [f.public(sub)], **f.totals(facts)}
        self.reply(202, body)
        if method == "webhook":
            threading.Thread(target=f.verify, args=(sub["id"],), daemon=True).start()

    def list(self, facts):
        f = self.fake
        status, type_ = self.q("status"), self.q("type")
        if status and type_:
            return self.error(400, "only one of status and type may be given")
        with f.lock:
            subs = sorted(f.visible(facts), key=lambda s: (s["created_at"], s["id"]))
            if status:
                subs = [s for s in subs if s["status"] == status]
            if type_:
                subs = [s for s in subs if s["type"] == type_]
            if self.q("user_id"):
                subs = [s for s in subs if self.q("user_id") in s["condition"].values()]
            if self.q("subscription_id"):
                subs = [s for s in subs if s["id"] == self.q("subscription_id")]
            start = 0
            if self.q("after"):
                try:
                    start = int(self.q("after").split("-")[1])
                except (IndexError, ValueError):
                    return self.error(400, "invalid cursor")
            page = subs[start:start + f.page_size]
            body = {"data": [f.public(s) for s in page], **f.totals(facts), "pagination": {}}
            if start + f.page_size < len(subs):
                body["pagination"]["cursor"] = "cur-%d" % (start + f.page_size)
        self.reply(200, body)

    def delete(self, facts):
        f = self.fake
        sid = self.q("id")
        if not sid:
            return self.error(400, "missing id")
        with f.lock:
            sub = f.subscriptions.get(sid)
            if not sub or sub not in f.visible(facts):
                return self.error(404, "subscription not found")
            del f.subscriptions[sid]
            f.on_delete(f.public(sub))
        self.reply(204)

    def json_body(self):
        try:
            req = json.loads(self.body or b"{}")
        except ValueError:
            return None
        return req if isinstance(req, dict) else None

    @staticmethod
    def public_conduit(c):
        return {"id": c["id"], "shard_count": c["shard_count"]}

    def conduits(self, facts):
        """GET, POST, PATCH and DELETE /helix/eventsub/conduits (app token)."""
        f = self.fake
        if facts["kind"] != "app":
            return self.error(401, "Authorization header required with an app access token")
        if self.command == "GET":
            with f.lock:
                return self.reply(200, {"data": [self.public_conduit(c)
                                                 for c in f.conduits.values()]})
        if self.command == "DELETE":
            with f.lock:
                c = f.conduits.pop(self.q("id"), None)
                if c:
                    for sid in [k for k, s in f.subscriptions.items()
                                if s["transport"].get("conduit_id") == c["id"]]:
                        del f.subscriptions[sid]
            return self.reply(204) if c else self.error(404, "conduit not found")
        req = self.json_body()
        if req is None:
            return self.error(400, "invalid JSON body")
        count = req.get("shard_count")
        if not isinstance(count, int) or not 1 <= count <= MAX_SHARDS:
            return self.error(400, "shard_count must be between 1 and %d" % MAX_SHARDS)
        with f.lock:
            if self.command == "POST":
                if len(f.conduits) >= MAX_CONDUITS:
                    return self.error(429, "conduit limit reached for this client id")
                c = {"id": str(uuid.uuid4()), "shard_count": count, "shards": {}}
                f.conduits[c["id"]] = c
                f.log("conduit created %s shards=%d" % (c["id"], count))
            else:
                c = f.conduits.get(req.get("id", ""))
                if not c:
                    return self.error(404, "conduit not found")
                c["shard_count"] = count
                c["shards"] = {i: sh for i, sh in c["shards"].items() if i < count}
            self.reply(200, {"data": [self.public_conduit(c)]})

    def shards(self, facts):
        """GET and PATCH /helix/eventsub/conduits/shards (app token)."""
        f = self.fake
        if facts["kind"] != "app":
            return self.error(401, "Authorization header required with an app access token")
        if self.command == "GET":
            with f.lock:
                c = f.conduits.get(self.q("conduit_id"))
                if not c:
                    return self.error(404, "conduit not found")
                shards = [sh for _, sh in sorted(c["shards"].items())
                          if not self.q("status") or sh["status"] == self.q("status")]
                start = int(self.q("after").split("-")[1]) if self.q("after") else 0
                body = {"data": shards[start:start + f.page_size], "pagination": {}}
                if start + f.page_size < len(shards):
                    body["pagination"]["cursor"] = "cur-%d" % (start + f.page_size)
            return self.reply(200, body)
        req = self.json_body()
        if req is None or not isinstance(req.get("shards"), list):
            return self.error(400, "missing conduit_id or shards")
        data, errors = [], []
        with f.lock:
            c = f.conduits.get(req.get("conduit_id", ""))
            if not c:
                return self.error(404, "conduit not found")
            for sh in req["shards"]:
                sid = str(sh.get("id", ""))
                tr = sh.get("transport") or {}
                if not sid.isdigit() or int(sid) >= c["shard_count"]:
                    errors.append({"id": sid, "message": "The shard id is outside the conduit's "
                                   "range", "code": "invalid_parameter"})
                    continue
                if tr.get("method") != "websocket":
                    errors.append({"id": sid, "message": "only websocket shards are faked",
                                   "code": "invalid_parameter"})
                    continue
                session = tr.get("session_id", "")
                if f.sessions is not None and session not in f.sessions:
                    errors.append({"id": sid, "message": "The websocket session is not "
                                   "connected", "code": "invalid_parameter"})
                    continue
                shard = {"id": sid, "status": "enabled",
                         "transport": {"method": "websocket", "session_id": session,
                                       "connected_at": now_rfc3339()}}
                c["shards"][int(sid)] = shard
                data.append(shard)
                f.log("attach %s shard=%s session=%s" % (c["id"], sid, session))
        self.reply(202, {"data": data, "errors": errors})

    def users(self, facts):
        f = self.fake
        logins, ids = self.query.get("login", []), self.query.get("id", [])
        if len(logins) + len(ids) > 100:
            return self.error(400, "too many logins and ids")
        with f.lock:
            found = [u for u in f.users.values() if u["login"] in logins or u["id"] in ids]
            if not logins and not ids and facts["kind"] == "user":
                found = [u for u in f.users.values() if u["id"] == facts["user_id"]]
        self.reply(200, {"data": [dict(u, type="", broadcaster_type="affiliate",
                                       description="", created_at="2020-01-01T00:00:00Z")
                                  for u in found]})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--log")
    p.add_argument("--client-id", default="cid0123456789")
    p.add_argument("--token", action="append", default=[],
                   help="TOKEN=user:USER_ID[+SCOPE,...] or TOKEN=app[+SCOPE,...] (repeatable)")
    p.add_argument("--accept-prefix", action="append", default=[],
                   help="PREFIX=user:USER_ID[+SCOPES] or PREFIX=app[+SCOPES]: every token so starting")
    p.add_argument("--user", action="append", default=[], help="LOGIN:ID[:DISPLAY] (repeatable)")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--max-total-cost", type=int, help="for websocket subscriptions")
    p.add_argument("--fail", action="append", default=[],
                   help="METHOD:PATH:STATUS[:COUNT] fault (repeatable)")
    p.add_argument("--orphan", action="append", default=[],
                   help="TYPE:VERSION:CONDITION-JSON: an enabled subscription of a dead session")
    p.add_argument("--sessions", help="comma-separated live websocket session ids")
    p.add_argument("--allow-http-callbacks", action="store_true")
    p.add_argument("--callback-cafile", help="CA file to verify https callbacks with")
    args = p.parse_args()
    h = FakeHelix(client_id=args.client_id, log=args.log, page_size=args.page_size)

    def facts_of(spec):
        """user:USER_ID[+SCOPE,...] or app[+SCOPE,...] (for an app token: the scopes the
        users of its conditions granted the application)."""
        who, _, scopes = spec.partition("+")
        kind, _, user_id = who.partition(":")
        return {"kind": kind, "user_id": user_id, "scopes": scopes.split(",") if scopes else None}

    for t in args.token:
        tok, spec = t.split("=", 1)
        h.add_token(tok, **facts_of(spec))
    for t in args.accept_prefix:
        prefix, spec = t.split("=", 1)
        h.accept_prefix(prefix, **facts_of(spec))
    for u in args.user:
        parts = u.split(":")
        h.add_user(parts[0], parts[1], parts[2] if len(parts) > 2 else None)
    if args.max_total_cost is not None:
        h.max_total_cost["websocket"] = args.max_total_cost
    for spec in args.fail:
        m, path, status, *count = spec.split(":")
        h.fail(m, path, int(status), int(count[0]) if count else 1)
    if args.sessions is not None:
        for s in filter(None, args.sessions.split(",")):
            h.add_session(s)
        h.sessions = h.sessions or set()
    for spec in args.orphan:
        type_, version, cond = spec.split(":", 2)
        h.add_orphan(type_, version, json.loads(cond), "dead-session-" + secrets.token_hex(4))
    h.allow_http_callbacks = args.allow_http_callbacks
    h.callback_cafile = args.callback_cafile
    port = h.start(args.cert, args.key)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    try:
        h.thread.join()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
