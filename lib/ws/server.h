// ws-serve's engine: one libwebsockets loop that adopts stdin, broadcasts every line to every
// WebSocket client through the shared Broadcast buffer, and answers plain HTTP on the same port
// (GET /healthz and static files). See man/ws-serve.1.scd for the behaviour it promises.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ws/loop.h"

/// What to do with a client whose backlog goes over --max-queue.
enum class SlowClientPolicy {
  kDisconnect,  ///< close it with 1008 (policy violation)
  kDrop,        ///< skip its oldest messages, counted and logged
};

/// Everything ws-serve can be told.
struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  size_t history = 0;
  size_t retain = 1000;       ///< lines retained for resuming clients (?after=ID); 0: none
  double retain_for = 300.0;  ///< seconds a retained line is kept
  std::string retain_file;    ///< where the retained lines survive a restart; empty: nowhere
  size_t max_queue = 65536;   ///< messages per client
  size_t max_queue_bytes = 4u << 20;  ///< payload bytes per client
  SlowClientPolicy slow_client = SlowClientPolicy::kDisconnect;
  size_t max_line = 65536;
  bool json = false;
  double drain_timeout = 5.0;  ///< seconds
  bool keep_open = false;
  std::string root;                  ///< real path of the static root; empty: no files
  std::string token;                 ///< required from WebSocket clients when not empty
  std::string control_token;         ///< lets a client send commands (ws/control.h); empty: none
  size_t max_clients = 0;            ///< 0: as many as the descriptor limit leaves room for
  std::vector<std::string> origins;  ///< Origin values allowed beside the page's own; "*": any
  std::string tls_cert;
  std::string tls_key;
  bool relay = false;
  size_t relay_buffer = 4u << 20;  ///< bytes waiting for stdout over which clients are not read
  std::string room_key;            ///< dotted path into an event naming its room; empty: no rooms
  std::string room_tokens;  ///< file of `ROOM TOKEN` lines, read again on SIGHUP; empty: none
};

/// Checks that |opts| go together (what each option alone accepts is the command line's
/// business): --history and --retain within --max-queue, --retain-file with --retain, --max-line
/// within half of --max-queue-bytes, --tls-cert with --tls-key, --room-tokens with --room-key.
/// False with |err| (naming the options) when they do not.
bool CheckServeOptions(const ServeOptions& opts, std::string* err);

/// Runs the server until end of input (then drains, unless keep_open) or a stop signal (then
/// drains). Returns an exit status of core/exit_status.h. Logs "listening on HOST:PORT".
int RunServer(const ServeOptions& opts);

/// ws-serve's server as RunServer() makes it, but listening nowhere, without stdin (no lines
/// come in) and without a descriptor limit, for the fuzz harness (tests/fuzz/ws_frames_fuzz.cc);
/// |opts|.max_clients must be set. Null, logged, on failure.
std::unique_ptr<ServerHarness> MakeServeHarness(const ServeOptions& opts);

/// The default static root: <dir of the executable>/../share/twitch-servitor/overlay, where
/// `make install` puts the overlay and where the build tree links to the source tree's. Empty
/// when it does not exist: a binary copied elsewhere serves no files rather than some checkout's.
std::string DefaultOverlayRoot();
