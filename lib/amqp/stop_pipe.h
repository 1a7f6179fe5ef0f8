// The self-pipe that turns SIGINT/SIGTERM (core/signals.h) into something poll(2) sees, so the
// one poll loop of amqp-pub and amqp-sub wakes up at once when asked to stop.
#pragma once

class StopPipe {
 public:
  /// Installs the stop signal handlers with a wake-up that writes to the pipe.
  StopPipe();
  ~StopPipe();
  StopPipe(const StopPipe&) = delete;
  StopPipe& operator=(const StopPipe&) = delete;

  /// The read end, to poll for POLLIN.
  int fd() const { return fds_[0]; }

  /// Empties the pipe after a wake-up.
  void Drain();

 private:
  int fds_[2] = {-1, -1};
};
