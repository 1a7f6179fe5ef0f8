// SIGINT/SIGTERM handling: the handler only records the signal (and wakes the event loop);
// the first one asks the command to drain and stop, the second exits at once.
#pragma once

/// Installs handlers for SIGINT and SIGTERM. The first signal sets StopRequested(); the loop
/// then stops taking input, delivers what is in flight and exits 0. A second signal calls _exit(1)
/// from the handler: the user insisted. A second signal within one second of the first is taken
/// for the same request delivered twice (timeout(1) signals the process and its group) and ignored.
void InstallStopSignals();

/// True once a stop signal has arrived.
bool StopRequested();

/// The signal number that asked to stop (0 if none).
int StopSignal();

/// Registers a function called from the signal handler after the flag is set, to wake an event
/// loop (for example lws_cancel_service). It must be async-signal-safe. Pass nullptr to clear.
void SetStopWakeup(void (*wake)(void* arg), void* arg);

/// Installs a handler for SIGHUP (reload): it records the request and wakes the loop as a stop
/// signal does (SetStopWakeup). Without it, SIGHUP keeps its default action.
void InstallReloadSignal();

/// True when a SIGHUP has come since the last call (several in between count as one).
bool TakeReloadRequest();

/// For tests: clears the stop state.
void ResetStopForTesting();
