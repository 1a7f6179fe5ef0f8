// The state file's JSON and the progress of stdout (see irc_state.h).
#include "twitch/irc_state.h"

#include <jansson.h>
#include <unistd.h>

#include <cerrno>

#include "core/atomic_file.h"
#include "core/json.h"
#include "core/time.h"

bool LoadIrcState(const std::string& path, IrcState* state, std::string* err) {
  state->clear();
  json_error_t jerr;
  JsonPtr root = JsonOwn(json_load_file(path.c_str(), 0, &jerr));
  if (!root) {
    if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) return true;
    *err = path + ": not a state file: " + jerr.text;
    return false;
  }
  json_t* channels = json_object_get(root.get(), "channels");
  if (json_integer_value(json_object_get(root.get(), "v")) != 1 || !json_is_object(channels)) {
    *err = path + ": not a state file: no \"v\":1 and \"channels\" object";
    return false;
  }
  const char* login;
  json_t* value;
  json_object_foreach(channels, login, value) {
    int64_t ms = 0;
    if (!json_is_string(value) || !ParseRfc3339(json_string_value(value), &ms)) {
      *err = path + ": channel " + login + ": not an RFC 3339 time";
      return false;
    }
    (*state)[login] = ms;
  }
  return true;
}

bool SaveIrcState(const std::string& path, const IrcState& state, std::string* err) {
  JsonPtr channels = JsonOwn(json_object());
  for (const auto& [login, ms] : state) {
    json_object_set_new(channels.get(), login.c_str(),
                        json_string(FormatRfc3339Millis(ms).c_str()));
  }
  JsonPtr root = JsonOwn(json_object());
  json_object_set_new(root.get(), "v", json_integer(1));
  json_object_set(root.get(), "channels", channels.get());
  return WriteFileAtomically(path, JsonDump(root.get()) + "\n", 0644, err);
}

void StdoutProgress::Received(int64_t rx_ms, size_t queued) {
  if (!marks_.empty() &&
      (marks_.back().second == queued || rx_ms - marks_.back().first < merge_ms_)) {
    marks_.back() = {rx_ms, queued};
    return;
  }
  marks_.emplace_back(rx_ms, queued);
}

int64_t StdoutProgress::WrittenUpTo(size_t out) {
  while (!marks_.empty() && marks_.front().second <= out) {
    upto_ = marks_.front().first;
    marks_.pop_front();
  }
  return upto_;
}
