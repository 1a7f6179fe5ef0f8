// ws-cat's engine (see client.h): the printing side of a WsClient. Messages become lines on
// stdout; with --send, complete stdin lines become messages; the outcome of each close is
// decided here (exit status, reconnect or not), the connecting and writing in ws_client.cc.
#include "ws/client.h"

#include <strings.h>

#include <cctype>
#include <cstdio>
#include <cstring>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/output.h"
#include "core/signals.h"
#include "core/utf8.h"
#include "ws/ws_client.h"

namespace {

constexpr size_t kMaxQueuedLines = 1024;  // stdin lines waiting to be sent

// A local server, or one over the Internet: the first retry comes soon.
constexpr BackoffPolicy kCatBackoff = {250, 15000, 30};

std::string Seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}

class Cat : public WsClientListener {
 public:
  explicit Cat(const CatOptions& opts) : opts_(opts), reader_(opts.max_line) {}

  void OnOpened(int slot) override {
    client->ResetBackoff();
    Rearm(slot);
    TakeLines();
    if (stdin_eof_ && client->queued(slot) == 0) EndOfInput();
  }

  void OnMessage(int slot, std::string_view text) override {
    Rearm(slot);
    if (client->ending()) return;
    client->Print(text);
    if (!opts_.after.empty()) KeepLastId(text);
    if (opts_.count > 0 && ++received_ >= opts_.count) {
      LogDebug("%lld messages: done", received_);
      client->Drain(kExitOk);
    }
  }

  void OnSent(int slot, size_t left) override {
    if (left < kMaxQueuedLines / 2) TakeLines();
    if (stdin_eof_ && client->queued(slot) == 0) EndOfInput();
  }

  void OnStdin(std::string_view data) override {
    if (data.empty()) {
      stdin_eof_ = true;
      reader_.Finish();
    } else {
      reader_.Feed(data);
    }
    TakeLines();
    int slot = client->active();
    if (stdin_eof_ && client->open(slot) && client->queued(slot) == 0) EndOfInput();
  }

  bool OnClosed(int, const WsCloseInfo& info) override;

 private:
  void Rearm(int slot) {
    if (opts_.timeout > 0) {
      client->Watch(slot, static_cast<int64_t>(opts_.timeout * 1000),
                    "nothing received for " + Seconds(opts_.timeout));
    }
  }

  void EndOfInput() {
    if (opts_.count != 0 || client->ending()) return;
    LogDebug("end of input: closing");
    client->Drain(kExitOk);
  }

  // Moves complete stdin lines to the connection, pausing stdin while enough wait there.
  void TakeLines() {
    int slot = client->active();
    if (!client->open(slot)) {
      client->ReadStdin(false);  // until there is a connection to send to
      return;
    }
    std::string line;
    while (client->queued(slot) < kMaxQueuedLines) {
      LineReader::Status st = reader_.Next(&line);
      if (st == LineReader::Status::kNone) break;
      if (st == LineReader::Status::kTooLong) {
        LogWarning("stdin line %zu: longer than %zu bytes: not sent", reader_.line_number(),
                   opts_.max_line);
      } else if (!IsValidUtf8(line)) {
        LogWarning("stdin line %zu: not valid UTF-8: not sent", reader_.line_number());
      } else {
        client->Send(slot, line);
      }
    }
    client->ReadStdin(client->queued(slot) < kMaxQueuedLines);
  }

  // Resuming (--after): the id of the last event printed, which a reconnect resumes after.
  void KeepLastId(std::string_view text) {
    if (text.empty() || text[0] != '{') return;
    std::string err;
    JsonPtr j = JsonParse(text, &err);
    std::string id = j && !json_object_get(j.get(), "control") ? JsonString(j.get(), "id") : "";
    if (!id.empty()) client->SetPath(WithAfter(opts_.url.path, id));
  }

  const CatOptions& opts_;
  LineReader reader_;
  bool stdin_eof_ = false;
  long long received_ = 0;
};

bool Cat::OnClosed(int, const WsCloseInfo& info) {
  const std::string& url = opts_.display_url;
  if (StopRequested()) {
    client->Drain(kExitOk);
    return false;
  }
  if (!info.opened && (info.http_status == 401 || info.http_status == 403)) {
    LogError("%s refused the credentials (HTTP %d)", url.c_str(), info.http_status);
    client->Drain(kExitCredentials);
    return false;
  }
  std::string why;
  if (!info.opened) {
    why = "cannot connect to " + url + ": " + info.error;
  } else if (!info.error.empty()) {
    why = "connection to " + url + " lost: " + info.error;
  } else if (info.close_code == 0) {
    why = "connection to " + url + " lost (no close frame)";
  } else if (info.close_code != 1000 && info.close_code != 1001) {
    why = "closed by the server with " + std::to_string(info.close_code) +
          (info.close_reason.empty() ? "" : " (" + info.close_reason + ")");
  }
  if (opts_.reconnect) {
    LogWarning("%s", why.empty() ? "closed by the server" : why.c_str());
    return true;
  }
  if (why.empty()) {
    LogDebug("closed by the server (%d)", info.close_code);
    client->Drain(kExitOk);
  } else {
    LogError("%s", why.c_str());
    client->Drain(kExitFailure);
  }
  return false;
}

}  // namespace

bool ParseHeader(const std::string& text, std::string* name, std::string* value, std::string* err) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    *err = "'" + text + "' is not 'Name: value'";
    return false;
  }
  *name = text.substr(0, colon);
  for (char c : *name) {
    if (!isalnum(static_cast<unsigned char>(c)) && !strchr("!#$%&'*+-.^_`|~", c)) {
      *err = "'" + *name + "' is not a header name";
      return false;
    }
  }
  size_t v = text.find_first_not_of(" \t", colon + 1);
  *value = v == std::string::npos ? "" : text.substr(v);
  if (value->find_first_of("\r\n") != std::string::npos) {
    *err = "header values cannot hold line breaks";
    return false;
  }
  return true;
}

int RunCat(const CatOptions& opts) {
  CatOptions o = opts;
  o.display_url = DisplayUrl(opts.url_text);
  Cat cat(o);
  WsClientOptions c;
  c.url = o.url;
  if (!o.after.empty()) c.url.path = WithAfter(o.url.path, o.after);
  c.display_url = o.display_url;
  c.tls = o.tls;
  c.headers = o.headers;
  bool has_authorization = false;
  for (const auto& h : o.headers) {
    has_authorization |= strcasecmp(h.first.c_str(), "authorization") == 0;
  }
  if (!o.token.empty() && !has_authorization) {
    c.headers.emplace_back("Authorization", "Bearer " + o.token);
  }
  c.max_message = o.max_line;
  c.connect_timeout_ms = static_cast<int>(o.timeout * 1000);
  c.backoff = kCatBackoff;
  c.read_stdin = o.send;
  WsClient client(c, &cat);
  int status = client.Run();
  std::string err;
  if (!CheckStdoutAtExit(&err)) {
    LogError("%s", err.c_str());
    return kExitFailure;
  }
  return status;
}
