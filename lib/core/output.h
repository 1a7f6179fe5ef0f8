// Checked, unbuffered record writes to stdout. Every line is written whole with write(2) and so
// reaches the next stage at once; EAGAIN (stdout made non-blocking by a neighbour sharing the file
// description) is waited out with poll(2); EPIPE means the downstream went away.
#pragma once

#include <string>
#include <string_view>

/// The outcome of writing records, for every writer: WriteLine(), OutputQueue (core/
/// output_queue.h) and twitch-irc's IrcEventWriter.
enum class WriteResult {
  kOk,       ///< everything is written
  kBlocked,  ///< a non-blocking descriptor takes no more now: write again once it is writable
  kClosed,   ///< the reader went away (EPIPE): end the command cleanly
  kError,    ///< any other write error (ENOSPC, EIO, ...): a runtime failure
};

/// Writes |record| followed by '\n' to |fd| (stdout by default), waiting out EAGAIN: never
/// kBlocked. On failure fills |err|.
WriteResult WriteLine(std::string_view record, std::string* err, int fd = 1);

/// Writes |data| exactly as given. Same contract as WriteLine().
WriteResult WriteAll(std::string_view data, std::string* err, int fd = 1);

/// Records that a write to stdout failed other than by EPIPE (WriteAll() and OutputQueue do it
/// themselves), for CheckStdoutAtExit().
void NoteStdoutFailed();

/// At exit: reports (and returns false) if an earlier write to stdout failed other than by EPIPE,
/// or stdout cannot be closed cleanly (jq's check).
bool CheckStdoutAtExit(std::string* err);
