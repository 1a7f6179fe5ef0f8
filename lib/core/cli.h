// Command-line plumbing shared by every command: the option groups written once (logging, TLS),
// --version, and the mapping of CLI11's outcomes to our exit statuses.
#pragma once

#include <string>

#include "core/tls_options.h"

// CLI11 is included only where options are added (a header-only library, heavy to compile).
namespace CLI {
class App;
}

/// -v/--verbose (repeatable) and -q/--quiet.
struct LogOptions {
  int verbose = 0;
  bool quiet = false;
};

/// Adds -v and -q to |app| and applies them once parsing is complete: -q errors only, -v debug,
/// -vv trace (the libraries' own notices too). |opts| must outlive the parsing.
void AddLogOptions(CLI::App& app, LogOptions* opts);

/// Adds the client TLS options (tls_options.h) to |app| under a "TLS" group: --cacert and
/// --insecure; with |client_cert|, also --cert and --key.
void AddTlsClientOptions(CLI::App& app, TlsClientOptions* opts, bool client_cert = false);

/// Sets up |app| for |program|: --version, the house formatting, LogInit(program), and SIGPIPE
/// ignored so that a closed downstream is an EPIPE that ends the command cleanly.
void SetupApp(CLI::App& app, const char* program);

/// Parses argv. Returns -1 when the command should run; otherwise the exit status to return
/// at once: 0 after --help/--version (also when the reader of stdout went away; kExitFailure (1)
/// with a message when writing them failed otherwise), kExitUsage (2) after a usage error, whose
/// message went to stderr as "<program>: error: ...".
int ParseCommandLine(CLI::App& app, int argc, char** argv);

/// Reads a secret: the first line of |file| when one is named (the command line wins), else the
/// value of environment variable |env| when set; else leaves |secret| as it is. Returns false
/// with |err| when the named file cannot be read or is empty.
bool ReadSecret(const std::string& file, const char* env, std::string* secret, std::string* err);
