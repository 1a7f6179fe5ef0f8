// bench/eventsub.d/path.cc: the CPU of twitch-eventsub's per-notification path alone, in one
// process (no TLS, no socket, no fake): a channel.follow message as the fake sends it, read
// (ParseEventSubMessage), mapped (MapEventSubNotification) and made into its output line
// (JsonAppend, as the session does), N times. Built and run by bench/eventsub (PATH_N, default
// 200000), which compiles it against the build's libservitor.a; `path N` runs N notifications,
// three times.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/json.h"
#include "twitch/eventsub_events.h"
#include "twitch/eventsub_message.h"

namespace {

const char kFollow[] =
    R"({"metadata": {"message_id": "n-000042", "message_type": "notification", )"
    R"("message_timestamp": "2026-12-01T19:00:00.123456Z", "subscription_type": "channel.follow", )"
    R"("subscription_version": "2"}, "payload": {"subscription": {"id": )"
    R"("f1c2a387-161a-49f9-a165-0f21d7a4e1c4", "status": "enabled", "type": "channel.follow", )"
    R"("version": "2", "condition": {"broadcaster_user_id": "777000222", "moderator_user_id": )"
    R"("777000222"}, "transport": {"method": "websocket", "session_id": )"
    R"("AQoQexAWVYKSTIu4ec_2VAxyuhAB"}, "created_at": "2026-12-01T18:59:59.000000Z", "cost": 0}, )"
    R"("event": {"user_id": "1042", "user_login": "viewer42", "user_name": "Viewer42", )"
    R"("broadcaster_user_id": "777000222", "broadcaster_user_login": "maplecrate", )"
    R"("broadcaster_user_name": "MapleCrate", "followed_at": "2026-12-01T19:00:00.120000Z"}}})";

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// One message the session's way; returns the bytes written (so nothing is optimised away).
size_t Once() {
  EventSubMessage m;
  std::string err;
  if (!ParseEventSubMessage(kFollow, &m, &err)) abort();
  std::vector<JsonPtr> events;
  EventSubDelivery d;
  d.message_id = m.message_id;
  d.message_timestamp = m.message_timestamp;
  if (!MapEventSubNotification(m.payload, d, {}, &events, &err)) abort();
  std::string line;
  line.reserve(512);
  JsonAppend(events[0].get(), &line);
  line.push_back('\n');
  return line.size();
}

}  // namespace

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 200000;
  for (int round = 0; round < 3; ++round) {
    size_t bytes = 0;
    double t0 = CpuSeconds();
    for (long i = 0; i < n; ++i) bytes += Once();
    double us = (CpuSeconds() - t0) * 1e6 / n;
    printf("path: %.2f us CPU per notification (%ld, %zu bytes out)\n", us, n, bytes);
  }
  return 0;
}
