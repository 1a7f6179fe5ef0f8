// The client TLS settings every network command shares, on their own so that lib/ modules can
// take them without the command-line library (core/cli.h adds them to a command line), and the
// rules every TLS connection follows, server or client: TLS 1.2 at least, whatever the system's
// OpenSSL configuration allows, and a warning on each connection that --insecure leaves
// unverified.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "core/log.h"

/// Client TLS: --cacert FILE, --insecure, and for a client certificate --cert and --key.
struct TlsClientOptions {
  std::string cacert;     ///< trust these CA certificates (PEM) instead of the system's
  bool insecure = false;  ///< do not verify the server's certificate
  std::string cert;       ///< client certificate (PEM); empty: none
  std::string key;        ///< its private key (PEM)
};

/// The SSL_OP_ bits that refuse every protocol before TLS 1.2, for libwebsockets'
/// ssl_options_set (servers) and ssl_client_options_set (clients).
constexpr long kTlsBelow12Off = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;

/// Logs, for each connection made with --insecure, that |server|'s certificate goes unverified.
inline void WarnInsecure(const std::string& server) {
  LogWarning("--insecure: connecting to %s without verifying its certificate", server.c_str());
}
