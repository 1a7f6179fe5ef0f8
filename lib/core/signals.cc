// Stop signals: the handler records the signal and wakes the loop; the loop does the rest.
#include "core/signals.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "core/time.h"

namespace {

volatile sig_atomic_t g_stop_signal = 0;
// When the first signal came (CLOCK_MONOTONIC, ms). A second one within kSameRequestMs is the same
// request delivered twice: `timeout` and process managers send SIGTERM to the process and to its
// group, so a command would get both copies at once and mistake them for a user who insists.
volatile int64_t g_first_ms = 0;
constexpr int64_t kSameRequestMs = 1000;

void (*volatile g_wake)(void*) = nullptr;
void* volatile g_wake_arg = nullptr;

void OnStopSignal(int sig) {
  if (g_stop_signal != 0) {
    if (MonotonicMs() - g_first_ms < kSameRequestMs) return;
    static const char kMsg[] = "interrupted again: exiting without draining\n";
    ssize_t ignored = write(2, kMsg, sizeof kMsg - 1);
    (void)ignored;
    _exit(1);
  }
  g_first_ms = MonotonicMs();
  g_stop_signal = sig;
  if (g_wake) g_wake(g_wake_arg);
}

volatile sig_atomic_t g_reload = 0;

void OnReloadSignal(int) {
  g_reload = 1;
  if (g_wake) g_wake(g_wake_arg);
}

void Handle(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(sig, &sa, nullptr);
}

}  // namespace

void InstallStopSignals() {
  Handle(SIGINT, OnStopSignal);
  Handle(SIGTERM, OnStopSignal);
}

bool StopRequested() { return g_stop_signal != 0; }
int StopSignal() { return g_stop_signal; }

void SetStopWakeup(void (*wake)(void* arg), void* arg) {
  g_wake = nullptr;
  g_wake_arg = arg;
  g_wake = wake;
}

void InstallReloadSignal() { Handle(SIGHUP, OnReloadSignal); }

bool TakeReloadRequest() {
  if (!g_reload) return false;
  g_reload = 0;
  return true;
}

void ResetStopForTesting() { g_stop_signal = 0; }
