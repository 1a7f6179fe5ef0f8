#!/usr/bin/python3
"""A fake Twitch PubSub server (WebSocket, TLS with --cert/--key, else plain ws) for
twitch-pubsub's end-to-end tests, following the archived protocol (twitch-protocols.md section 7).

It binds 127.0.0.1 on a free port and prints "listening on 127.0.0.1:PORT". Every frame it gets
is logged to --log as "<connection>> <frame>" (the auth_token replaced by "good" or "bad"), and
what it observed as "<connection>! <note>", so the tests can check both sides.

LISTEN is answered as Twitch answers it: a RESPONSE with the request's nonce and "error" of
  ERR_BADMESSAGE  no nonce, no topics, or more than 50 topics
  ERR_BADAUTH     an auth_token other than --good-token
  ERR_BADTOPIC    a topic named with --bad-topic among the topics
  ERR_SERVER      scenario server-error, the first LISTEN of all
  ""              otherwise ("listening to K topics" is logged)
PING is answered with PONG (except in scenario silent, on connection 1).

Scenarios, played once the connection's first LISTEN succeeded (connection number n from 1):
  events        a RESPONSE with a nonce the client never sent (ERR_BADAUTH: to be ignored), then
                the frames of --frames (a golden .frames file: comments and empty lines
                skipped); then idles
  reconnect     n=1: RECONNECT; once connection 2 is connected, message A; stays open until the
                client closes it. n=2: its LISTEN is answered once A went out on connection 1;
                then message A again (the client must write it once) and message B
  reconnect-close  n=1: RECONNECT, then the connection is cut; n>=2: message B
  drop          n=1: the TCP connection is cut without a close frame; n>=2: message B
  silent        n=1: PINGs are not answered; n>=2: message B
  server-error  the first LISTEN gets ERR_SERVER; a later connection: message B
  revoked       AUTH_REVOKED for the connection's topics
  malformed     a MESSAGE whose inner message is not JSON, one that is not an object, a frame
                that is not JSON, then message B
  flood         --events cheers (ids ...000000000000 up), 50 a frame batch 0.05 s apart, then "sent
                all"; PINGs are answered meanwhile (for a client whose stdout is stalled)
  idle          nothing (for the topic count and RESPONSE checks)
"""
import argparse
import asyncio
import json
import ssl
import sys

import websockets

CHANNEL = "777000222"
BITS = f"channel-bits-events-v2.{CHANNEL}"


def cheer(msg_id, bits):
    inner = {"data": {"user_name": "quillfeather", "channel_name": "maplecrate",
                      "user_id": "40040040", "channel_id": CHANNEL,
                      "time": "2026-01-01T00:00:00.000Z", "chat_message": f"Cheer{bits}",
                      "bits_used": bits, "total_bits_used": 1000, "is_anonymous": False,
                      "context": "cheer", "badge_entitlement": None},
             "version": "1.0", "message_type": "bits_event", "message_id": msg_id,
             "is_anonymous": False}
    return message(BITS, json.dumps(inner))


def message(topic, inner_text):
    return json.dumps({"type": "MESSAGE", "data": {"topic": topic, "message": inner_text}})


MESSAGE_A = cheer("a0000000-0000-4000-8000-00000000000a", 100)
MESSAGE_B = cheer("b0000000-0000-4000-8000-00000000000b", 200)

args = None
tasks = set()  # scenarios that run beside their connection's reading
connections = 0
listens = 0
second_connected = None  # asyncio.Event: connection 2 is there (scenario reconnect)
a_sent = None  # asyncio.Event: connection 1 sent message A (scenario reconnect)


def log(n, sep, text):
    with open(args.log, "a") as f:
        f.write(f"{n}{sep} {text}\n")


def shown(frame):
    try:
        j = json.loads(frame)
        token = j.get("data", {}).get("auth_token")
        if token is not None:
            j["data"]["auth_token"] = "good" if token == args.good_token else "bad"
        return json.dumps(j, separators=(",", ":"))
    except (ValueError, AttributeError):
        return frame


def listen_error(n, j):
    global listens
    listens += 1
    data = j.get("data") or {}
    topics = data.get("topics") or []
    if not j.get("nonce") or not topics or len(topics) > 50:
        return "ERR_BADMESSAGE"
    if data.get("auth_token") != args.good_token:
        return "ERR_BADAUTH"
    if any(t in args.bad_topic for t in topics):
        return "ERR_BADTOPIC"
    if args.scenario == "server-error" and listens == 1:
        return "ERR_SERVER"
    log(n, "!", f"listening to {len(topics)} topics")
    return ""


async def scenario(ws, n, topics):
    s = args.scenario
    if s == "events":
        await ws.send('{"type":"RESPONSE","error":"ERR_BADAUTH","nonce":"not-a-nonce-we-sent"}')
        count = 0
        with open(args.frames) as f:
            for line in f:
                line = line.rstrip("\n")
                if line and not line.startswith("#"):
                    await ws.send(line)
                    count += 1
        log(n, "!", f"sent {count} frames")
    elif s == "reconnect" and n == 1:
        await ws.send('{"type":"RECONNECT"}')
        log(n, "!", "sent RECONNECT")
        await asyncio.wait_for(second_connected.wait(), 20)
        await ws.send(MESSAGE_A)
        log(n, "!", "sent A")
        a_sent.set()
    elif s == "reconnect":
        await ws.send(MESSAGE_A)
        await ws.send(MESSAGE_B)
        log(n, "!", "sent A and B")
    elif s == "reconnect-close" and n == 1:
        await ws.send('{"type":"RECONNECT"}')
        log(n, "!", "sent RECONNECT, dropping the connection")
        ws.transport.abort()
    elif s == "drop" and n == 1:
        log(n, "!", "dropping the connection")
        ws.transport.abort()
    elif s == "revoked":
        await ws.send(json.dumps({"type": "AUTH_REVOKED", "data": {"topics": topics}}))
        log(n, "!", "sent AUTH_REVOKED")
    elif s == "flood":
        for i in range(args.events):
            await ws.send(cheer(f"c0000000-0000-4000-8000-{i:012d}", 1 + i % 100))
            if i % 50 == 49:
                await asyncio.sleep(0.05)
        log(n, "!", "sent all")
    elif s == "malformed":
        await ws.send(message(BITS, '{"data":{"bits_used":5'))
        await ws.send(message(BITS, "[1,2]"))
        await ws.send("not json")
        await ws.send(MESSAGE_B)
        log(n, "!", "sent 3 malformed and B")
    elif s in ("reconnect-close", "drop", "silent", "server-error") and n >= 2:
        await ws.send(MESSAGE_B)
        log(n, "!", "sent B")


async def handler(ws, path=None):
    global connections
    connections += 1
    n = connections
    log(n, "!", "connected")
    if n == 2:
        second_connected.set()
    played = False
    try:
        async for frame in ws:
            log(n, ">", shown(frame))
            try:
                j = json.loads(frame)
            except ValueError:
                log(n, "!", "not JSON")
                continue
            kind = j.get("type")
            if kind == "PING":
                if args.scenario == "silent" and n == 1:
                    log(n, "!", "PING ignored")
                    continue
                await ws.send('{"type":"PONG"}')
            elif kind == "LISTEN":
                if args.scenario == "reconnect" and n == 2:
                    await asyncio.wait_for(a_sent.wait(), 20)
                error = listen_error(n, j)
                await ws.send(json.dumps({"type": "RESPONSE", "error": error,
                                          "nonce": j.get("nonce", "")}))
                if error == "" and not played:
                    played = True
                    task = asyncio.create_task(scenario(ws, n, j["data"]["topics"]))
                    tasks.add(task)  # PINGs are answered meanwhile
                    task.add_done_callback(tasks.discard)
            else:
                log(n, "!", f"unexpected frame type {kind}")
    except websockets.ConnectionClosed:
        pass
    finally:
        log(n, "!", "closed")


async def main():
    global second_connected, a_sent
    second_connected, a_sent = asyncio.Event(), asyncio.Event()
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    async with websockets.serve(handler, "127.0.0.1", 0, ssl=ctx, max_size=1 << 20) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on 127.0.0.1:{port}", flush=True)
        await asyncio.sleep(args.lifetime)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--cert", help="serve TLS with this certificate (else plain ws)")
    p.add_argument("--key")
    p.add_argument("--log", required=True)
    p.add_argument("--scenario", default="events")
    p.add_argument("--frames", help="scenario events: the frames to send")
    p.add_argument("--good-token", default="goodtoken")
    p.add_argument("--bad-topic", action="append", default=[], help="answered ERR_BADTOPIC")
    p.add_argument("--events", type=int, default=2000, help="cheers in scenario flood")
    p.add_argument("--lifetime", type=float, default=60, help="seconds before the server exits")
    args = p.parse_args()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
