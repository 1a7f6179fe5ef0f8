// ws-cat's engine: a WsClient (ws_client.h) whose text messages go to stdout one line each,
// through a bounded queue that a slow reader cannot stall the connection with; with --send, stdin
// lines go to the server; --reconnect retries with backoff and jitter. See man/ws-cat.1.scd for
// the behaviour it promises.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/tls_options.h"
#include "ws/address.h"

/// Everything ws-cat can be told.
struct CatOptions {
  std::string url_text;
  WsUrl url;
  std::string display_url;  ///< url_text without its query, for diagnostics (set by RunCat)
  long long count = 0;      ///< exit after this many messages; 0: no limit
  bool send = false;        ///< send stdin lines to the server
  bool reconnect = false;
  double timeout = 0;          ///< seconds to connect, and of silence once connected; 0: none
  size_t max_line = 1u << 20;  ///< longest message printed or line sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string token;  ///< sent as "Authorization: Bearer" unless a header of that name is given
  std::string after;  ///< resume after this event id (ws-serve's ?after=); empty: do not
  TlsClientOptions tls;
};

/// Runs the client until the server closes, --count is reached, stdout closes or a stop signal.
/// Returns an exit status of core/exit_status.h.
int RunCat(const CatOptions& opts);

/// Splits "Name: value" for --header. Returns false with |err| when it is not one.
bool ParseHeader(const std::string& text, std::string* name, std::string* value, std::string* err);
