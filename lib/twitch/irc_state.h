// twitch-irc --state-file: what a restarted listener needs to report the time it was down. Per
// channel, the time up to which everything received for it reached stdout (or, for a channel
// that was not covered when the file was written, when that began); restarted with the file, the
// listener writes a "gap" per channel from that time to when the channel is joined again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

/// Channel login → milliseconds since the epoch: events of the channel after this time may not
/// have reached stdout.
using IrcState = std::map<std::string, int64_t>;

/// Reads |path| into |state|. A missing file is an empty state (a first start). False with
/// |err| when the file cannot be read or is not a state file.
bool LoadIrcState(const std::string& path, IrcState* state, std::string* err);

/// Replaces |path| with |state| atomically (core/atomic_file.h): one JSON object,
/// {"v":1,"channels":{"login":"RFC 3339 time",...}}. False with |err|.
bool SaveIrcState(const std::string& path, const IrcState& state, std::string* err);

/// Up to when the records queued for stdout so far have been written out: each received message
/// is marked with its time and the count of records queued by then; once that many have left the
/// queue, everything received up to that time is on stdout. Marks closer than |merge_ms| merge,
/// so a long stall keeps a bounded list.
class StdoutProgress {
 public:
  explicit StdoutProgress(int64_t merge_ms = 100) : merge_ms_(merge_ms) {}

  /// A message received at |rx_ms| (wall clock) had its records queued; |queued| records have
  /// been queued in all so far.
  void Received(int64_t rx_ms, size_t queued);

  /// The latest receive time whose records are all out, |out| records having left the queue in
  /// all; 0 while none is.
  int64_t WrittenUpTo(size_t out);

 private:
  int64_t merge_ms_;
  std::deque<std::pair<int64_t, size_t>> marks_;  // (receive time, records queued by then)
  int64_t upto_ = 0;
};
