// The step shared by the offline reader and the live client: one raw IRC line in, its records
// written to stdout as NDJSON (or queued for it, live), with the counts a command reports at exit.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/output.h"
#include "core/output_queue.h"
#include "twitch/irc_events.h"
#include "twitch/irc_message.h"

/// The longest IRC line accepted, in bytes: IRCv3 allows 8191 bytes of tags plus 512 of message;
/// the margin keeps odd but honest lines.
constexpr size_t kMaxIrcLine = 64 * 1024;

/// Parses lines, maps them to events and writes each record as one line on stdout, or appends it
/// to a queue that the caller writes out (QueueTo()).
class IrcEventWriter {
 public:
  /// |name| names the input in diagnostics ("-", a file, the server's host); records go to |fd|.
  IrcEventWriter(const IrcMapOptions& opts, std::string name, int fd = 1)
      : opts_(opts), name_(std::move(name)), fd_(fd) {}

  /// kOk; kClosed: stdout's reader went away, stop cleanly; kError: stdout failed, stop with a
  /// runtime failure (|err| says why). Never kBlocked.
  using Result = WriteResult;

  /// Handles one line (without CR LF). A line that does not parse is logged with its number
  /// |line_no| and counted in skipped(). |msg| receives the parsed line for the caller (its
  /// views point into |line|); its command is empty when the line did not parse.
  Result Handle(std::string_view line, size_t line_no, IrcMessage* msg, std::string* err);

  /// From now on, a line whose "id" tag came among the last |capacity| ids is handled but not
  /// written again: two connections overlap after RECONNECT and both deliver the same lines.
  void SkipRepeatedIds(size_t capacity) { id_capacity_ = capacity; }

  /// From now on, records are appended to |queue| (which must outlive this writer) instead of
  /// being written: the caller flushes it when stdout can take them. Nothing then fails here.
  void QueueTo(OutputQueue* queue) { queue_ = queue; }

  /// Writes one record (for events that do not come from a line, such as "gap").
  Result Write(const json_t* record, std::string* err);

  size_t lines() const { return lines_; }
  size_t skipped() const { return skipped_; }
  size_t written() const { return written_; }  ///< records written, or queued with QueueTo()
  size_t repeated() const { return repeated_; }

 private:
  Result Emit(const std::string& line, std::string* err);  // |line| ends in '\n'
  bool SeenBefore(const IrcMessage& msg);

  IrcMapOptions opts_;
  std::string name_;
  int fd_;
  OutputQueue* queue_ = nullptr;  // not owned; null: blocking writes to fd_
  std::string text_;              // the line being written, reused
  std::vector<JsonPtr> records_;
  size_t lines_ = 0;
  size_t skipped_ = 0;
  size_t written_ = 0;
  size_t repeated_ = 0;
  size_t id_capacity_ = 0;
  std::deque<std::string> ids_;  // the last id_capacity_ ids, oldest first
  std::unordered_set<std::string> id_set_;
};

/// Offline mode (--input): reads raw IRC lines from |fd| to its end and writes their records.
/// Returns an exit status (exit_status.h): 0 at end of input or when stdout's reader left,
/// 1 when reading or writing fails.
int RunIrcInput(int fd, const std::string& name, const IrcMapOptions& opts);
