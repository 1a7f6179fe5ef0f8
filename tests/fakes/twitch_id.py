#!/usr/bin/python3
"""A fake id.twitch.tv (OAuth2) over TLS for the twitch-auth tests.

Speaks what Twitch documents (twitch-protocols.md section 8): POST /oauth2/device, POST
/oauth2/token (device code, refresh_token with rotation, client_credentials), GET
/oauth2/validate ("Authorization: OAuth <token>"), POST /oauth2/revoke. Errors look like
Twitch's: {"status":400,"message":"authorization_pending"}, 401 "invalid access token", 400
"Invalid refresh token" (also for a refresh token used twice: it rotates on every use).

Binds 127.0.0.1 port 0 and prints "listening on 127.0.0.1:PORT". Every token, refresh token,
device code and secret it hands out or knows is appended to --secrets FILE, so a test can grep
every log for them. --log FILE gets one line per request: "METHOD PATH [grant] -> STATUS" and
the poll times of the device flow, never a secret.
"""
import argparse
import json
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


class State:
    def __init__(self, args):
        self.args = args
        self.access = {}  # token -> {"login","user_id","client_id","scopes","expires_at"}
        self.refresh = {}  # refresh token -> {"login","user_id","client_id","scopes"}
        self.used_refresh = set()
        self.devices = {}  # device_code -> {"polls", "client_id", "scopes", "last"}
        self.requests = 0
        self.login, self.user_id = args.user.split(":")
        if args.access_token:
            self.access[args.access_token] = self.user_token_facts(args.client_id, ["chat:read"])
            self.remember(args.access_token)
        if args.refresh_token:
            self.refresh[args.refresh_token] = {"client_id": args.client_id,
                                                "scopes": ["chat:read"]}
            self.remember(args.refresh_token)
        self.remember(args.client_secret)

    def user_token_facts(self, client_id, scopes):
        return {"login": self.login, "user_id": self.user_id, "client_id": client_id,
                "scopes": scopes, "expires_at": time.time() + self.args.expires_in}

    def remember(self, secret):
        if self.args.secrets and secret:
            with open(self.args.secrets, "a") as f:
                f.write(secret + "\n")

    def new_secret(self, prefix):
        s = prefix + secrets.token_hex(12)
        self.remember(s)
        return s

    def log(self, line):
        if self.args.log:
            with open(self.args.log, "a") as f:
                f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        st.log("%s %s %s-> %d" % (self.command, self.path, self.grant + " " if self.grant else "",
                                  status))

    def error(self, status, message):
        self.reply(status, {"status": status, "message": message})

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode()
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

    def faults(self):
        """--fail-first N: 500 for the first N requests; --rate-limit-first N: 429 for them."""
        with LOCK:
            st.requests += 1
            n = st.requests
        if n <= st.args.fail_first:
            self.error(500, "Internal Server Error")
            return True
        if n <= st.args.rate_limit_first:
            reset = int(time.time()) + 1
            self.reply(429, {"error": "Too Many Requests", "status": 429,
                             "message": "Too Many Requests"},
                       {"Ratelimit-Limit": "800", "Ratelimit-Remaining": "0",
                        "Ratelimit-Reset": str(reset)})
            return True
        return False

    def do_GET(self):
        self.grant = ""
        if self.faults():
            return
        if self.path != "/oauth2/validate":
            return self.error(404, "Not Found")
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("OAuth "):
            return self.error(401, "missing authorization token")
        tok = auth[len("OAuth "):]
        with LOCK:
            facts = st.access.get(tok)
        if not facts or facts["expires_at"] < time.time() or st.args.validate == "401":
            return self.error(401, "invalid access token")
        body = {"client_id": facts["client_id"], "scopes": facts["scopes"],
                "expires_in": max(0, int(facts["expires_at"] - time.time()))}
        if facts.get("login"):
            body["login"] = facts["login"]
            body["user_id"] = facts["user_id"]
        self.reply(200, body)

    def do_POST(self):
        f = self.form()
        self.grant = f.get("grant_type", "")
        if self.faults():
            return
        if self.path == "/oauth2/device":
            return self.device(f)
        if self.path == "/oauth2/token":
            if self.grant == "urn:ietf:params:oauth:grant-type:device_code":
                return self.device_token(f)
            if self.grant == "refresh_token":
                return self.refresh(f)
            if self.grant == "client_credentials":
                return self.client_credentials(f)
            return self.error(400, "unsupported grant type")
        if self.path == "/oauth2/revoke":
            with LOCK:
                found = st.access.pop(f.get("token", ""), None)
            if not found or found["client_id"] != f.get("client_id"):
                return self.error(400, "Invalid token")
            return self.reply(200, {})
        self.error(404, "Not Found")

    def device(self, f):
        if f.get("client_id") != st.args.client_id:
            return self.error(400, "invalid client")
        code = st.new_secret("dev")
        with LOCK:
            st.devices[code] = {"polls": 0, "client_id": f["client_id"],
                                "scopes": f.get("scopes", "").split(), "last": None,
                                "interval": st.args.interval}
        st.log("device scopes=%s" % f.get("scopes", ""))
        self.reply(200, {"device_code": code, "user_code": "ABCD-EFGH",
                         "verification_uri": "https://www.twitch.tv/activate?public=true&"
                                             "device-code=ABCD-EFGH",
                         "expires_in": st.args.device_expires_in,
                         "interval": st.args.interval})

    def device_token(self, f):
        now = time.time()
        with LOCK:
            d = st.devices.get(f.get("device_code", ""))
            if d:
                gap = now - d["last"] if d["last"] else 0
                d["last"] = now
                d["polls"] += 1
                polls = d["polls"]
        if not d:
            return self.error(400, "invalid device code")
        st.log("poll %d gap=%.2f" % (polls, gap))
        outcome = st.args.device
        if outcome == "slow" and polls == 1:
            return self.error(400, "slow_down")
        if polls <= st.args.pending + (1 if outcome == "slow" else 0):
            return self.error(400, "authorization_pending")
        if outcome == "deny":
            return self.error(400, "access_denied")
        if outcome == "expire":
            return self.error(400, "expired_token")
        access, refresh = st.new_secret("acc"), st.new_secret("ref")
        with LOCK:
            st.access[access] = st.user_token_facts(d["client_id"], d["scopes"])
            st.refresh[refresh] = {"client_id": d["client_id"], "scopes": d["scopes"]}
            del st.devices[f["device_code"]]
        self.reply(200, {"access_token": access, "refresh_token": refresh,
                         "expires_in": st.args.expires_in, "scope": d["scopes"],
                         "token_type": "bearer"})

    def refresh(self, f):
        time.sleep(st.args.token_delay_ms / 1000.0)
        r = f.get("refresh_token", "")
        with LOCK:
            if r in st.used_refresh:
                st.log("refresh token used twice")
            facts = st.refresh.pop(r, None)
            st.used_refresh.add(r)
        if not facts or facts["client_id"] != f.get("client_id"):
            return self.error(400, "Invalid refresh token")
        access, new_refresh = st.new_secret("acc"), st.new_secret("ref")
        with LOCK:
            st.access[access] = st.user_token_facts(facts["client_id"], facts["scopes"])
            st.refresh[new_refresh] = facts
        self.reply(200, {"access_token": access, "refresh_token": new_refresh,
                         "expires_in": st.args.expires_in, "scope": facts["scopes"],
                         "token_type": "bearer"})

    def client_credentials(self, f):
        if f.get("client_id") != st.args.client_id:
            return self.error(400, "invalid client")
        if f.get("client_secret") != st.args.client_secret:
            return self.error(403, "invalid client secret")
        access = st.new_secret("app")
        with LOCK:
            st.access[access] = {"client_id": f["client_id"], "scopes": [],
                                 "expires_at": time.time() + st.args.expires_in}
        self.reply(200, {"access_token": access, "expires_in": st.args.expires_in,
                         "token_type": "bearer"})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--log")
    p.add_argument("--secrets")
    p.add_argument("--client-id", default="cid0123456789")
    p.add_argument("--client-secret", default="csecret0123456789abcdef")
    p.add_argument("--user", default="streamer:141981764", help="LOGIN:ID of the user")
    p.add_argument("--access-token", help="an access token that is valid from the start")
    p.add_argument("--refresh-token", help="a refresh token that is valid from the start")
    p.add_argument("--expires-in", type=int, default=14400)
    p.add_argument("--device", default="approve", choices=["approve", "deny", "expire", "slow"])
    p.add_argument("--pending", type=int, default=1, help="polls answered authorization_pending")
    p.add_argument("--interval", type=int, default=1)
    p.add_argument("--device-expires-in", type=int, default=1800)
    p.add_argument("--validate", default="ok", choices=["ok", "401"])
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--rate-limit-first", type=int, default=0)
    p.add_argument("--token-delay-ms", type=int, default=0)
    args = p.parse_args()
    global st
    st = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
