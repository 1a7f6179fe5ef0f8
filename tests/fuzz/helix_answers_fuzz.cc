// libFuzzer target for Helix's answers to twitch-subs and twitch-eventsub (lib/twitch/
// helix_eventsub): bytes 0-1 pick an HTTP status (100 + their little-endian value % 500), byte 2
// a Ratelimit-Reset header (when odd: its upper 7 bits); the rest is the body. The response is made
// by HttpClient's own HttpReadAnswer (body parsed as JSON when it is; a non-2xx status a kStatus
// failure with Twitch's "message" or "error"), then read by every reader: ReadCreate (for a
// websocket and a webhook transport), ReadListPage (appending to a list, as pages do), ReadDelete,
// ReadUser, and ClassifyHelixResponse. Invariants: no crash or sanitizer finding; a read that is
// not kOk has an error text; ReadCreate's kOk gives a subscription with an id and a type; a list
// page only ever adds subscriptions with both, and its cursor is empty unless the page was kOk;
// ReadUser's kOk gives an id; and no error text carries the webhook secret given to ReadCreate.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/json.h"
#include "core/log.h"
#include "twitch/helix_eventsub.h"

namespace {

constexpr char kSecret[] = "fuzz-webhook-secret-0123456789";

HttpResponse MakeResponse(const uint8_t* data, size_t size) {
  HttpResponse r;
  r.status = 100 + (data[0] | data[1] << 8) % 500;
  if (data[2] & 1) r.headers["ratelimit-reset"] = std::to_string(data[2] >> 1);
  r.body.assign(reinterpret_cast<const char*>(data + 3), size - 3);
  HttpReadAnswer(&r, "GET https://api.twitch.tv/helix/eventsub/subscriptions");
  return r;
}

void CheckResult(const HelixResult& h) {
  if (!h.ok() && h.error.empty()) abort();
  if (h.error.find(kSecret) != std::string::npos) abort();
}

void CheckCreate(const HttpResponse& r, const char* method) {
  EventSubCreate what;
  what.type = "channel.follow";
  what.version = "2";
  what.condition = JsonOwn(json_object());
  what.transport.method = method;
  what.transport.secret = kSecret;
  EventSubSubscription out;
  HelixResult h = HelixEventSub::ReadCreate(r, what, &out);
  CheckResult(h);
  if (h.ok() && (out.id.empty() || out.type.empty() || !json_is_object(out.condition.get()))) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool init = [] {
    LogInit("helix_answers_fuzz");
    LogSetLevel(LogLevel::kError);
    return true;
  }();
  (void)init;
  if (size < 3 || size > 1 << 16) return 0;
  const HttpResponse r = MakeResponse(data, size);
  CheckResult(ClassifyHelixResponse(r));
  CheckCreate(r, "websocket");
  CheckCreate(r, "webhook");

  EventSubList list;
  list.subscriptions.resize(1);  // a page read before: kept
  std::string cursor = "left over";
  HelixResult page = HelixEventSub::ReadListPage(r, &list, &cursor);
  CheckResult(page);
  if (!page.ok() && !cursor.empty()) abort();
  if (!page.ok() && list.subscriptions.size() != 1) abort();
  for (size_t i = 1; i < list.subscriptions.size(); ++i) {
    if (list.subscriptions[i].id.empty() || list.subscriptions[i].type.empty()) abort();
  }

  CheckResult(HelixEventSub::ReadDelete(r));
  HelixUser user;
  HelixResult u = HelixEventSub::ReadUser(r, "viewer", &user);
  CheckResult(u);
  if (u.ok() && user.id.empty()) abort();
  return 0;
}
