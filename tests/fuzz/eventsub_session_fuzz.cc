// libFuzzer target for the EventSub WebSocket session (lib/twitch/eventsub_session): the real
// EventSubClient on the real shared client, connected over loopback TCP (ws_loopback.h) to a
// server that answers the handshake and sends the input as the session's messages, with a fake
// Helix behind EventSubApi as tests/unit/eventsub_session_test.cc has. The input's first line is
// Helix's script: each byte the answer to one call in turn (o 200, u 401, f 403, c 409, r 429,
// t 5xx, x 400; any other, and after the script, 200); a 409 lists a subscription of a dead
// session, one of another condition and one of another type. Every further line is one text
// message (welcome, keepalive, notification, reconnect, revocation, or anything). A
// session_reconnect's ws:// URL is pointed at a port that refuses (the handover fails, as a bad
// URL would), so that nothing leaves the machine. After the last message the server sends one
// the session never sees (kEnd): the harness ends the run a few ms later, once Helix's answers
// have come; the last connection closing ends it too (without the reconnect).
// Invariants: no crash or sanitizer finding; Run() ends, with 0, 1 or 3; and every line written
// to standard output is an event that passes the schema.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/event.h"
#include "core/exit_status.h"
#include "core/json.h"
#include "core/log.h"
#include "fuzz_stdout.h"
#include "twitch/eventsub_session.h"
#include "ws/address.h"
#include "ws_loopback.h"

namespace {

constexpr std::string_view kEnd = "\x01 end of input";
int g_refused_port = 0;

// Helix on the loop, answering from its script.
struct FakeApi : EventSubApi {
  struct lws_context* context = nullptr;
  std::string script;
  size_t next = 0;
  std::deque<std::unique_ptr<LoopAlarm>> alarms;

  EventSubApiResult Next() {
    EventSubApiResult r;
    char c = next < script.size() ? script[next++] : 'o';
    static const struct {
      char c;
      EventSubApiStatus s;
    } kCodes[] = {{'u', EventSubApiStatus::kUnauthorized}, {'f', EventSubApiStatus::kForbidden},
                  {'c', EventSubApiStatus::kConflict},     {'r', EventSubApiStatus::kRateLimited},
                  {'t', EventSubApiStatus::kTransient},    {'x', EventSubApiStatus::kRejected}};
    for (const auto& k : kCodes) {
      if (k.c == c) {
        r.status = k.s;
        r.message = "scripted";
      }
    }
    if (c == 'r') r.retry_after_ms = 1;
    r.id = "id-" + std::to_string(next);
    return r;
  }
  void Later(std::function<void()> fn) {
    alarms.push_back(std::make_unique<LoopAlarm>(std::move(fn)));
    alarms.back()->After(context, 0);
  }
  void Create(const EventSubWanted&, const std::string&,
              std::function<void(EventSubApiResult)> done) override {
    EventSubApiResult r = Next();
    Later([done, r] { done(r); });
  }
  void List(std::function<void(EventSubApiResult, std::vector<EventSubListed>)> done) override {
    EventSubApiResult r = Next();
    std::vector<EventSubListed> l = {
        {"orphan", "channel.follow", "2", "enabled", "dead", R"({"broadcaster_user_id":"7"})"},
        {"other", "channel.follow", "2", "enabled", "dead", R"({"broadcaster_user_id":"8"})"},
        {"cheer", "channel.cheer", "1", "enabled", "", "{}"}};
    Later([done, r, l] { done(r, l); });
  }
  void Remove(const std::string&, std::function<void(EventSubApiResult)> done) override {
    EventSubApiResult r = Next();
    Later([done, r] { done(r); });
  }
};

// The session with the harness's two ends: kEnd, and a closed connection.
class Session : public EventSubClient {
 public:
  using EventSubClient::EventSubClient;
  LoopAlarm end;
  void OnMessage(int slot, std::string_view text) override {
    if (text == kEnd) {
      end.After(client->context(), 3);  // Helix's answers come at the next turns of the loop
      return;
    }
    EventSubClient::OnMessage(slot, text);
  }
  bool OnClosed(int slot, const WsCloseInfo& info) override {
    EventSubClient::OnClosed(slot, info);
    if (!client->open(0) && !client->open(1)) client->Drain(kExitOk);
    return false;  // no reconnect: the server takes one connection
  }
};

// A reconnect URL that would connect goes to the refusing port instead.
std::string Confine(std::string_view line) {
  std::string err;
  JsonPtr j = JsonParse(line, &err);
  json_t* session = json_object_get(json_object_get(j.get(), "payload"), "session");
  json_t* url = json_object_get(session, "reconnect_url");
  WsUrl parsed;
  if (!json_is_string(url) || !ParseWsUrl(json_string_value(url), &parsed, &err) || parsed.tls) {
    return std::string(line);
  }
  std::string to = "ws://127.0.0.1:" + std::to_string(g_refused_port) + "/ws?id=x";
  json_object_set_new(session, "reconnect_url", json_string(to.c_str()));
  return JsonDump(j.get());
}

void Serve(int listener, std::string frames) {
  int fd = ws_loopback::Accept(listener);
  if (fd < 0) return;
  std::string request = ws_loopback::ReadRequest(fd);
  ws_loopback::SendAll(fd, ws_loopback::Answer101(request) + frames);
  // The client's close frame: closing now spares it lws' wait for the close's answer.
  ws_loopback::WaitReadable(fd);
  close(fd);
}

void Init() {
  LogInit("eventsub-session");
  LogSetLevel(LogLevel::kError);
  fuzz_stdout::Capture();
  ws_loopback::Bind(false, &g_refused_port);  // bound for the run, never listening
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  static bool init = (Init(), true);
  (void)init;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  FakeApi api;
  api.script = std::string(in.substr(0, nl));
  std::string frames;
  while (nl != std::string_view::npos) {
    size_t from = nl + 1;
    nl = in.find('\n', from);
    std::string_view line = in.substr(from, nl == std::string_view::npos ? nl : nl - from);
    if (!line.empty()) frames += ws_loopback::TextFrame(Confine(line));
  }
  frames += ws_loopback::TextFrame(kEnd);

  int port = 0;
  int listener = ws_loopback::Bind(true, &port);
  std::thread server(Serve, listener, std::move(frames));
  EventSubClientOptions opts;
  opts.url = "ws://127.0.0.1:" + std::to_string(port) + "/ws";
  opts.backoff = BackoffPolicy{1, 2, 0};
  opts.map.raw = true;
  opts.channel = Identity{"7", "chan", "Chan"};
  opts.subscriptions = {{"channel.follow", "2", R"({"broadcaster_user_id":"7"})", ""},
                        {"channel.cheer", "1", R"({"broadcaster_user_id":"7"})", "bits:read"}};
  Session* session = nullptr;
  LoopAlarm stop;  // a bound on the whole input, whatever the session does
  EventSubAuthHooks hooks;
  hooks.loop_started = [&](struct lws_context* c) {
    api.context = c;
    stop.Set([&] { session->client->Drain(kExitOk); });
    stop.After(c, ws_loopback::kWaitMs);
  };
  hooks.loop_ending = [&] {
    api.alarms.clear();
    stop.Cancel();
    session->end.Cancel();
  };
  hooks.unauthorized = [&] { api.Later([&] { session->OnTokenChanged(); }); };
  int status;
  {
    Session s(opts, &api, hooks);
    session = &s;
    s.end.Set([&] { s.client->Drain(kExitOk); });
    status = s.Run();
  }
  server.join();
  close(listener);
  if (status != kExitOk && status != kExitFailure && status != kExitCredentials) abort();
  fuzz_stdout::CheckEvents();
  return 0;
}
