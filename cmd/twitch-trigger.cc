// twitch-trigger: prints sample schema-v1 events, for testing overlays and pipelines without a
// live stream (a "test alert" button for the command line).
#include <time.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <random>
#include <string>

#include "core/cli.h"
#include "core/event.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "core/output.h"
#include "core/signals.h"
#include "twitch/trigger.h"

namespace {

struct Options {
  TriggerSpec spec;
  long long repeat = 1;
  double interval = 0;
  std::optional<uint64_t> seed;
  LogOptions log;
};

void AddEventOptions(CLI::App& app, TriggerSpec* s) {
  auto add = [&app](const char* name, auto* value, const char* type, const char* help) {
    app.add_option(name, *value, help)->type_name(type)->group("Event");
  };
  add("--user", &s->user, "NAME", "Acting user (display name or login)");
  add("--channel", &s->channel, "NAME", "Broadcaster (display name or login)");
  add("--recipient", &s->recipient, "NAME", "subgift: who receives the sub");
  add("--target", &s->target, "LOGIN", "host: the hosted channel");
  add("--tier", &s->tier, "TIER", "sub, resub, subgift, giftbomb: prime, 1, 2, 3 (or 1000...)");
  add("--months", &s->months, "N", "sub, resub: cumulative months");
  add("--streak", &s->streak, "N", "sub, resub: streak months, when shared");
  add("--bits", &s->bits, "N", "cheer: bits cheered");
  add("--viewers", &s->viewers, "N", "raid, host: viewers");
  add("--count", &s->count, "N", "giftbomb: subs gifted (then N subgift events follow)");
  add("--total", &s->total, "N", "giftbomb: gifter's total; hypetrain: points so far");
  add("--message", &s->message, "TEXT", "sub, resub, cheer, redemption, announcement, chat");
  add("--reward", &s->reward, "TITLE", "redemption: reward title");
  add("--cost", &s->cost, "N", "redemption: reward cost in channel points");
  add("--phase", &s->phase, "PHASE", "hypetrain: begin, progress or end");
  add("--level", &s->level, "N", "hypetrain: level");
  add("--goal", &s->goal, "N", "hypetrain: points needed for the next level");
  add("--kind", &s->kind, "KIND", "notice: the Twitch notice kind");
  add("--group", &s->group, "ID", "subgift, giftbomb: the gift bomb's group id");
  add("--from", &s->from, "TIME", "gap: start (RFC 3339)");
  add("--to", &s->to, "TIME", "gap: end (RFC 3339)");
  app.add_flag("--anonymous", s->anonymous, "subgift, giftbomb, cheer: no user")->group("Event");
  app.add_flag("--gifted", s->gifted, "sub, resub: the sub was a gift")->group("Event");
}

// Sleeps |seconds| with one nanosleep; a stop signal cuts it short. False when asked to stop.
bool SleepUnlessStopped(double seconds) {
  struct timespec left;
  left.tv_sec = static_cast<time_t>(seconds);
  left.tv_nsec = static_cast<long>((seconds - std::floor(seconds)) * 1e9);
  while (!StopRequested() && nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  return !StopRequested();
}

int Run(const Options& opts) {
  uint64_t seed = opts.seed ? *opts.seed : std::random_device{}() * 0x100000001ull;
  if (opts.spec.random) LogDebug("random seed %llu", static_cast<unsigned long long>(seed));
  TriggerGenerator generator(opts.spec, seed);
  InstallStopSignals();
  signal(SIGPIPE, SIG_IGN);  // no lws here to do it: a reader going away must be an EPIPE
  for (long long i = 0; opts.repeat == 0 || i < opts.repeat; ++i) {
    if (i > 0 && opts.interval > 0 && !SleepUnlessStopped(opts.interval)) break;
    // A trigger is written whole (a gift bomb with all its gifts) even when a signal arrives.
    for (const JsonPtr& event : generator.Next()) {
      std::string err;
      if (!ValidateEvent(event.get(), &err)) {
        LogError("internal error: generated event breaks schema v1: %s", err.c_str());
        return kExitFailure;
      }
      WriteResult r = WriteLine(JsonDump(event.get()), &err);
      if (r == WriteResult::kClosed) return kExitOk;
      if (r == WriteResult::kError) {
        LogError("stdout: %s", err.c_str());
        return kExitFailure;
      }
    }
    if (StopRequested()) break;
  }
  std::string err;
  if (!CheckStdoutAtExit(&err)) {
    LogError("stdout: %s", err.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app;
  SetupApp(app, "twitch-trigger");
  app.description("Print sample schema-v1 events (source \"trigger\") for testing overlays");
  Options opts;
  app.add_option("TYPE", opts.spec.type,
                 "Event type (see twitch-events(7)); with --random, only it");
  auto* random = app.add_flag("--random", opts.spec.random, "A realistic random mix of events");
  app.add_option("--seed", opts.seed, "Seed for --random: the same seed, the same events")
      ->type_name("N")
      ->needs(random)
      ->check([](const std::string& s) {  // strtoull would take "-1" as 2^64-1
        return !s.empty() && isdigit(static_cast<unsigned char>(s[0])) ? ""
                                                                       : "not an unsigned number";
      });
  app.add_option("--repeat", opts.repeat, "Fire N triggers; 0 = until interrupted")->type_name("N");
  app.add_option("--interval", opts.interval, "Wait SECONDS between triggers")
      ->type_name("SECONDS");
  AddEventOptions(app, &opts.spec);
  AddLogOptions(app, &opts.log);
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  std::string err;
  if (opts.repeat < 0) err = "--repeat: negative (0 repeats until interrupted)";
  if (!(opts.interval >= 0 && opts.interval <= 86400)) err = "--interval: not 0 to 86400 seconds";
  if (!err.empty() || !NormalizeTriggerSpec(&opts.spec, &err)) {
    LogError("%s", err.c_str());
    LogError("try 'twitch-trigger --help'");
    return kExitUsage;
  }
  try {
    return Run(opts);
  } catch (const std::exception& e) {
    LogError("%s", e.what());
    return kExitFailure;
  }
}
