#!/usr/bin/python3
"""A fake Twitch IRC server (TMI over TLS WebSocket) for twitch-irc's end-to-end tests.

It binds 127.0.0.1 on a free port, prints "listening on 127.0.0.1:PORT", checks the client's
login sequence (CAP REQ first, PASS before NICK), answers JOINs like Twitch (echo, NAMES, ROOMSTATE, or a
refusal NOTICE for channels named in --refuse; more than 20 JOINs in 10 s of one user (nick),
over all its connections, are dropped, as Twitch drops them, and logged as "JOIN rate
exceeded"; each JOIN is logged as "<connection>! JOIN #chan at MS"; a connection that holds more
than --max-per-connection channels is logged as "over N channels"; PART is echoed), and then
plays a scenario once every expected channel is joined (shards: once each channel is joined). Every line received is logged to --log as "<connection>> <line>", and what the
fake itself observed as "<connection>! <note>", so the tests can check both sides.

Scenarios (per connection number n, starting at 1):
  events     several lines in one frame, a line split across two frames, a PING that must be
             answered with PONG; then idles
  reconnect  n=1: RECONNECT, stays open, and once n=2 has logged in sends raid 5; n=2: once
             joined, raid 5 again (the client must write it once), then raid 6
  reconnect-close  n=1: RECONNECT, then the connection is cut at once; n=2: one event
  drop       n=1: the TCP connection is cut without a close frame (after --drop-after s); n=2: one
             event
  silent     n=1: never answers the client's PING; n=2: one event
  flood      a raid every 0.1 s, 200 at most (for a reader that goes away)
  reconnect-storm  every connection: RECONNECT once joined (a server that keeps asking); its
             "connected at MS" and "sent RECONNECT at MS" lines carry the monotonic clock (the
             RECONNECT's taken before it is sent)
  notice-escape    a NOTICE whose text holds terminal escape sequences (ESC, OSC, BEL, C1 CSI)
  stream     every connection, once joined: a raid every --frame-gap s with an id and a
             tmi-sent-ts of its own (ids ...fedcba9K, K counted over every connection), each
             logged as "sent raid K at MS"; for kill-and-restart tests
  stall      after 0.5 s ("stall begins"), --events raids with the ids ...fedcba900000 up, in 20
             frames (or of --frame-lines each) --frame-gap (0.2) s apart, and a PING of its own after every second frame ("sent PING
             K"); then "sent all". For a client whose stdout is stalled meanwhile. With
             --pong-deadline, a PING unanswered that long gets the connection cut, as Twitch does
             ("no PONG to PING K: dropping").
  shards     every connection, for each channel it joins: --events raids of that channel,
             --frame-gap s apart, ids ...fedcba9K with K counted over everything, each logged as
             "sent raid K #chan at MS", then "sent all #chan"; with --drop-channel CHAN, the
             first connection to join CHAN is cut without a close frame --drop-after s later
             ("dropping the connection"), or with --drop-with reconnect sent RECONNECT and left
             open ("sent RECONNECT"). For several connections, one of which goes.
  numbered   --events raids with the ids fault-000001 up, one every --interval s, counted across
             connections: each goes to the connection that joined last ("sent K"), or, while
             none is joined, to nobody ("missed K"); each line of the log then ends with the
             wall-clock time in ms since the epoch (also the raid's tmi-sent-ts); "sent all" at
             the end. For a client that is killed and restarted meanwhile.
"""
import argparse
import asyncio
import hashlib
import ssl
import sys
import time

import websockets

SUB = ("@badge-info=subscriber/1;badges=subscriber/0;color=;display-name=PebbleWhisk;emotes=;"
       "id=0c9d8e7f-1234-4abc-9def-00aa11bb22cc;login=pebblewhisk;mod=0;msg-id=sub;"
       "msg-param-cumulative-months=1;msg-param-should-share-streak=0;msg-param-sub-plan=Prime;"
       "msg-param-was-gifted=false;room-id=777000222;subscriber=1;"
       "system-msg=PebbleWhisk\\ssubscribed\\swith\\sPrime.;tmi-sent-ts=1767225720789;"
       "user-id=40040042;user-type= :tmi.twitch.tv USERNOTICE #{chan}")
RAID = ("@badge-info=;badges=partner/1;color=;display-name=HarborLights;emotes=;"
        "id=fe12dc34-ba56-4987-8654-3210fedcba9{n};login=harborlights;mod=0;msg-id=raid;"
        "msg-param-viewerCount=342;room-id=777000222;subscriber=0;"
        "system-msg=342\\sraiders\\sfrom\\sHarborLights\\shave\\sjoined!;tmi-sent-ts=1767225900678;"
        "user-id=40040046;user-type= :tmi.twitch.tv USERNOTICE #{chan}")
CHEER = ("@badge-info=;badges=bits/1000;bits=250;color=#FF7F50;display-name=Quillfeather;emotes=;"
         "id=3f1c2b8e-5a77-4c0e-9d10-1b2c3d4e5f60;mod=0;room-id=777000222;subscriber=1;"
         "tmi-sent-ts=1767225600123;user-id=40040040;user-type= "
         ":quillfeather!quillfeather@quillfeather.tmi.twitch.tv PRIVMSG #{chan} "
         ":Cheer200 Cheer50 good luck on the boss!")

args = None
tasks = set()  # scenarios that run beside the handler's loop
unanswered = {}  # stall scenario: PING token -> when it was sent
connections = 0
streamed = 0  # stream scenario: raids sent so far, over every connection
successor_nick = None  # asyncio.Event: connection 2 has sent NICK (scenario reconnect)
current = None  # numbered scenario: (connection number, ws, channel) that joined last
numbered_task = None
join_times = {}  # nick -> when its JOINs of the last 10 s came (Twitch's limit is per user)
dropped = False  # shards scenario: --drop-channel's connection was cut once


def log(n, sep, text):
    with open(args.log, "a") as f:
        f.write(f"{n}{sep} {text}\n")


def drop_if_unanswered(ws, n):
    now = asyncio.get_running_loop().time()
    late = [k for k, at in unanswered.items() if now - at > args.pong_deadline]
    if late:
        log(n, "!", f"no PONG to PING {late[0][6:]}: dropping")
        ws.transport.abort()
    return bool(late)


async def numbered():
    """The numbered scenario's one stream, independent of the connections."""
    for k in range(1, args.events + 1):
        ms = int(time.time() * 1000)
        target = current
        if target is None:
            log(0, "!", f"missed {k} {ms}")
        else:
            line = RAID.format(chan=target[2], n="").replace(
                "id=fe12dc34-ba56-4987-8654-3210fedcba9", f"id=fault-{k:06d}").replace(
                "tmi-sent-ts=1767225900678", f"tmi-sent-ts={ms}")
            try:
                await target[1].send(line + "\r\n")
                log(target[0], "!", f"sent {k} {ms}")
            except websockets.ConnectionClosed:
                log(target[0], "!", f"missed {k} {ms}")
        await asyncio.sleep(args.interval)
    log(0, "!", "sent all")


async def shard_stream(ws, n, chan):
    """The shards scenario: one channel's raids on the connection that joined it."""
    global streamed
    try:
        for _ in range(args.events):
            k = streamed
            streamed += 1
            await ws.send(RAID.format(chan=chan, n=f"{k:05d}") + "\r\n")
            log(n, "!", f"sent raid {k} #{chan} at {int(time.time() * 1000)}")
            await asyncio.sleep(args.frame_gap)
        log(n, "!", f"sent all #{chan}")
    except websockets.ConnectionClosed:
        log(n, "!", f"stream #{chan} cut")


async def shard_drop(ws, n):
    await asyncio.sleep(args.drop_after)
    if args.drop_with == "reconnect":
        log(n, "!", "sent RECONNECT")
        await ws.send(":tmi.twitch.tv RECONNECT\r\n")
        return
    log(n, "!", "dropping the connection")
    ws.transport.abort()


async def scenario(ws, n, nick, chan):
    global current, numbered_task, streamed
    if args.scenario == "numbered":
        current = (n, ws, chan)
        if numbered_task is None:
            numbered_task = asyncio.create_task(numbered())
    elif args.scenario == "events":
        # Two events in one frame, then a line cut in the middle across two frames.
        await ws.send(SUB.format(chan=chan) + "\r\n" + RAID.format(chan=chan, n=1) + "\r\n")
        cheer = CHEER.format(chan=chan) + "\r\n"
        await ws.send(cheer[:100])
        await asyncio.sleep(0.2)
        await ws.send(cheer[100:])
        await ws.send("PING :tmi.twitch.tv\r\n")
        log(n, "!", "sent PING")
    elif args.scenario == "stall":
        await asyncio.sleep(0.5)
        log(n, "!", "stall begins")
        unanswered.clear()
        per = args.frame_lines or max(1, args.events // 20)
        sent = frames = 0
        while sent < args.events:
            upto = min(sent + per, args.events)
            await ws.send("".join(RAID.format(chan=chan, n=f"{i:05d}") + "\r\n"
                                  for i in range(sent, upto)))
            sent = upto
            frames += 1
            if frames % 2 == 0:
                unanswered[f"stall-{frames}"] = asyncio.get_running_loop().time()
                await ws.send(f"PING :stall-{frames}\r\n")
                log(n, "!", f"sent PING {frames}")
            await asyncio.sleep(args.frame_gap)
            if args.pong_deadline and drop_if_unanswered(ws, n):
                return
        log(n, "!", "sent all")
        while args.pong_deadline and unanswered:
            await asyncio.sleep(0.1)
            if drop_if_unanswered(ws, n):
                return
    elif args.scenario == "stream":
        while True:
            k = streamed
            streamed += 1
            ms = int(time.time() * 1000)
            line = RAID.format(chan=chan, n=f"{k:05d}").replace("tmi-sent-ts=1767225900678",
                                                                 f"tmi-sent-ts={ms}")
            await ws.send(line + "\r\n")
            log(n, "!", f"sent raid {k} at {ms}")
            await asyncio.sleep(args.frame_gap)
    elif args.scenario == "reconnect-storm":
        ms = int(time.monotonic() * 1000)
        await ws.send(":tmi.twitch.tv RECONNECT\r\n")
        log(n, "!", f"sent RECONNECT at {ms}")
    elif args.scenario == "notice-escape":
        await ws.send(f"@msg-id=pwn :tmi.twitch.tv NOTICE #{chan} "
                      ":\x1b[2J\x1b]0;owned\x07 look \u009b31m here\r\n")
        log(n, "!", "sent NOTICE")
    elif args.scenario == "flood":
        for i in range(200):
            await ws.send(RAID.format(chan=chan, n=i % 10) + "\r\n")
            await asyncio.sleep(0.1)
    elif args.scenario == "reconnect" and n == 1:
        await ws.send(":tmi.twitch.tv RECONNECT\r\n")
        log(n, "!", "sent RECONNECT")
        await asyncio.wait_for(successor_nick.wait(), 15)
        await ws.send(RAID.format(chan=chan, n=5) + "\r\n")
        log(n, "!", "sent raid 5")
    elif args.scenario == "reconnect" and n >= 2:
        await ws.send(RAID.format(chan=chan, n=5) + "\r\n")
        await ws.send(RAID.format(chan=chan, n=6) + "\r\n")
        log(n, "!", "sent raid 5 and raid 6")
    elif args.scenario == "reconnect-close" and n == 1:
        await ws.send(":tmi.twitch.tv RECONNECT\r\n")
        log(n, "!", "sent RECONNECT, dropping the connection")
        ws.transport.abort()
    elif args.scenario == "drop" and n == 1:
        await asyncio.sleep(args.drop_after)
        log(n, "!", "dropping the connection")
        ws.transport.abort()
    elif n >= 2:
        await ws.send(RAID.format(chan=chan, n=n) + "\r\n")
        log(n, "!", "sent raid")


async def handler(ws, path=None):
    global connections, current, dropped
    connections += 1
    n = connections
    if args.scenario == "reconnect-storm":
        log(n, "!", f"connected at {int(time.monotonic() * 1000)}")
    else:
        log(n, "!", "connected")
    got_cap = got_pass = False
    nick = None
    joined = 0
    held = set()  # the channels joined and not parted on this connection
    try:
        async for frame in ws:
            for line in frame.replace("\r\n", "\n").split("\n"):
                if not line:
                    continue
                shown = "PASS oauth:***" if line.startswith("PASS ") and "bad" not in line else line
                log(n, ">", shown)
                cmd, _, rest = line.partition(" ")
                if cmd == "CAP":
                    got_cap = True
                    await ws.send(":tmi.twitch.tv CAP * ACK :twitch.tv/tags twitch.tv/commands\r\n")
                elif cmd == "PASS":
                    got_pass = True
                    if nick is not None:
                        log(n, "!", "PASS after NICK")
                        await ws.send(":tmi.twitch.tv NOTICE * :Improperly formatted auth\r\n")
                        return
                    token = rest
                elif cmd == "NICK":
                    nick = rest
                    if n >= 2:
                        successor_nick.set()
                    if not got_cap:
                        log(n, "!", "NICK before CAP REQ")
                    if args.auth_failure:
                        log(n, "!", "auth failure sent")
                        await ws.send(f":tmi.twitch.tv NOTICE * :{args.auth_failure}\r\n")
                        await asyncio.sleep(0.5)
                        return
                    good = True
                    if got_pass:  # which token, without showing it
                        digest = hashlib.sha256(token[6:].encode()).hexdigest()[:12]
                        log(n, "!", f"token sha256 {digest}")
                        good = token.startswith("oauth:") and (
                            token[6:] in args.good_token or (args.good_token_prefix and
                                                             token[6:].startswith(args.good_token_prefix)))
                    if not good:
                        log(n, "!", "bad token")
                        await ws.send(":tmi.twitch.tv NOTICE * :Login authentication failed\r\n")
                        await asyncio.sleep(0.5)
                        return
                    if not got_pass and not nick.startswith("justinfan"):
                        log(n, "!", "no PASS for a named NICK")
                    welcome = "".join(f":tmi.twitch.tv {code} {nick} :{text}\r\n" for code, text in [
                        ("001", "Welcome, GLHF!"), ("002", "Your host is tmi.twitch.tv"),
                        ("003", "This server is rather new"), ("004", "-"), ("375", "-"),
                        ("372", "You are in a maze of twisty passages, all alike."), ("376", ">")])
                    await ws.send(welcome)  # several lines in one frame, as Twitch does
                elif cmd == "JOIN":
                    chan = rest.lstrip("#")
                    if chan in args.ignore:
                        log(n, "!", f"JOIN #{chan} ignored")
                        continue
                    if chan in args.refuse:
                        await ws.send(f"@msg-id=msg_channel_suspended :tmi.twitch.tv NOTICE #{chan} "
                                      ":This channel has been suspended.\r\n")
                        continue
                    now = asyncio.get_running_loop().time()
                    log(n, "!", f"JOIN #{chan} at {int(time.time() * 1000)}")
                    times = join_times.setdefault(nick, [])
                    times[:] = [t for t in times if now - t < 10] + [now]
                    if len(times) > 20:  # Twitch: 20 JOINs per 10 s per user; more are dropped
                        log(n, "!", f"JOIN rate exceeded: #{chan} ignored")
                        continue
                    held.add(chan)
                    if args.max_per_connection and len(held) > args.max_per_connection:
                        log(n, "!", f"over {args.max_per_connection} channels on one connection: #{chan}")
                    # As Twitch answers: the echo, NAMES (353, 366), then ROOMSTATE.
                    host = f"{nick}.tmi.twitch.tv"
                    await ws.send(f":{nick}!{nick}@{host} JOIN #{chan}\r\n"
                                  f":{host} 353 {nick} = #{chan} :{nick}\r\n"
                                  f":{host} 366 {nick} #{chan} :End of /NAMES list\r\n"
                                  f"@emote-only=0;room-id=777000222;slow=0 :tmi.twitch.tv ROOMSTATE #{chan}\r\n")
                    joined += 1
                    if args.scenario == "shards":
                        tasks.add(asyncio.create_task(shard_stream(ws, n, chan)))
                        if chan == args.drop_channel and not dropped:
                            dropped = True
                            tasks.add(asyncio.create_task(shard_drop(ws, n)))
                    elif joined == args.expect_joins:
                        log(n, "!", "all joined")
                        if args.scenario in ("stall", "stream"):  # PINGs and PONGs go on meanwhile
                            tasks.add(asyncio.create_task(scenario(ws, n, nick, chan)))
                        else:
                            await scenario(ws, n, nick, chan)
                elif cmd == "PART":
                    held.discard(rest.lstrip("#"))
                    await ws.send(f":{nick}!{nick}@{nick}.tmi.twitch.tv PART {rest}\r\n")
                elif cmd == "PING":
                    if args.scenario == "silent" and n == 1:
                        log(n, "!", "PING ignored")
                        continue
                    await ws.send(f":tmi.twitch.tv PONG tmi.twitch.tv :{rest.lstrip(':')}\r\n")
                elif cmd == "PONG":
                    unanswered.pop(rest.rpartition(":")[2], None)
                    log(n, "!", "PONG received")
    except websockets.ConnectionClosed:
        pass
    finally:
        if current is not None and current[0] == n:
            current = None
        log(n, "!", "closed")


async def main():
    global successor_nick
    successor_nick = asyncio.Event()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    async with websockets.serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on 127.0.0.1:{port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--scenario", default="events")
    p.add_argument("--expect-joins", type=int, default=1)
    p.add_argument("--refuse", action="append", default=[])
    p.add_argument("--ignore", action="append", default=[], help="never answer JOINs of this")
    p.add_argument("--good-token", action="append", help="a token that logs in (goodtoken)")
    p.add_argument("--good-token-prefix", help="tokens that begin so log in too")
    p.add_argument("--drop-after", type=float, default=0, help="drop scenario: seconds first")
    p.add_argument("--events", type=int, default=1000,
                   help="raids in the stall and numbered scenarios")
    p.add_argument("--interval", type=float, default=0.01, help="numbered scenario: between raids")
    p.add_argument("--frame-lines", type=int, default=0,
                   help="stall scenario: raids per frame (default: a 20th of --events)")
    p.add_argument("--frame-gap", type=float, default=0.2, help="stall scenario: between frames")
    p.add_argument("--pong-deadline", type=float, default=0,
                   help="stall scenario: cut the connection when a PING waits this long")
    p.add_argument("--max-per-connection", type=int, default=0,
                   help="log a connection that holds more channels than this")
    p.add_argument("--drop-channel", help="shards scenario: cut the connection of this channel")
    p.add_argument("--drop-with", choices=["cut", "reconnect"], default="cut",
                   help="shards scenario: how --drop-channel's connection goes")
    p.add_argument("--auth-failure", help="answer every NICK with this NOTICE text")
    args = p.parse_args()
    args.good_token = args.good_token or ["goodtoken"]
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
