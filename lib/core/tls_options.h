// The client TLS settings every network command shares, on their own so that lib/ modules can
// take them without the command-line library (core/cli.h adds them to a command line).
#pragma once

#include <string>

/// Client TLS: --cacert FILE, --insecure, and for a client certificate --cert and --key.
struct TlsClientOptions {
  std::string cacert;     ///< trust these CA certificates (PEM) instead of the system's
  bool insecure = false;  ///< do not verify the server's certificate
  std::string cert;       ///< client certificate (PEM); empty: none
  std::string key;        ///< its private key (PEM)
};
