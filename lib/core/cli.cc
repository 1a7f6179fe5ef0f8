// Shared command-line plumbing: option groups written once, and CLI11's outcomes mapped to the
// exit statuses of exit_status.h.
#include "core/cli.h"

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <fstream>

#include "core/exit_status.h"
#include "core/log.h"
#include "core/output.h"
#include "version.h"

void SetupApp(CLI::App& app, const char* program) {
  LogInit(program);
  // A closed downstream must show up as EPIPE from write(2), to end the command cleanly with 0,
  // not kill it by a signal (which a shell reports as failure 141).
  signal(SIGPIPE, SIG_IGN);
  app.name(program);
  app.set_version_flag("--version", std::string(program) + " (twitch-servitor) " SERVITOR_VERSION);
  app.option_defaults()->always_capture_default();
  app.get_formatter()->column_width(32);
}

void AddLogOptions(CLI::App& app, LogOptions* opts) {
  app.add_flag("-v,--verbose", opts->verbose, "More diagnostics on stderr (debug)")
      ->group("Logging");
  app.add_flag("-q,--quiet", opts->quiet, "Only errors on stderr")->group("Logging");
  // Applied once parsing is complete, so a command's own app.callback() stays free for it.
  app.parse_complete_callback([opts] {
    if (opts->quiet) {
      LogSetLevel(LogLevel::kError);
    } else if (opts->verbose > 1) {
      LogSetLevel(LogLevel::kTrace);
    } else if (opts->verbose > 0) {
      LogSetLevel(LogLevel::kDebug);
    }
  });
}

void AddTlsClientOptions(CLI::App& app, TlsClientOptions* opts, bool client_cert) {
  app.add_option("--cacert", opts->cacert, "Trust the CA certificates in FILE (PEM)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile)
      ->group("TLS");
  app.add_flag("--insecure", opts->insecure, "Do not verify the server's certificate")
      ->group("TLS");
  if (client_cert) {
    app.add_option("--cert", opts->cert, "Client certificate FILE (PEM)")
        ->type_name("FILE")
        ->check(CLI::ExistingFile)
        ->group("TLS");
    app.add_option("--key", opts->key, "Private key FILE of --cert (PEM)")
        ->type_name("FILE")
        ->check(CLI::ExistingFile)
        ->group("TLS");
  }
}

namespace {

// Writes --help or --version text to stdout: 0, or 0 when the reader went away (EPIPE), or 1 with
// a message when the write failed otherwise (a full disk, /dev/full).
int PrintAndExit(const std::string& text) {
  std::string err;
  if (WriteAll(text, &err) == WriteResult::kError) {
    LogError("standard output: %s", err.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int ParseCommandLine(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return PrintAndExit(app.help());
  } catch (const CLI::CallForAllHelp&) {
    return PrintAndExit(app.help("", CLI::AppFormatMode::All));
  } catch (const CLI::CallForVersion& e) {
    return PrintAndExit(std::string(e.what()) + "\n");
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return kExitOk;
    LogError("%s", e.what());
    LogError("try '%s --help'", app.get_name().c_str());
    return kExitUsage;
  }
  return -1;
}

bool ReadSecret(const std::string& file, const char* env, std::string* secret, std::string* err) {
  if (file.empty()) {
    // No file named on the command line: the environment, when it has one.
    const char* v = env ? getenv(env) : nullptr;
    if (v && *v) *secret = v;
    return true;
  }
  std::ifstream in(file);
  if (!in) {
    *err = file + ": cannot be read";
    return false;
  }
  std::getline(in, *secret);
  while (!secret->empty() && (secret->back() == '\r' || secret->back() == ' ')) secret->pop_back();
  if (secret->empty()) {
    *err = file + ": empty";
    return false;
  }
  return true;
}
