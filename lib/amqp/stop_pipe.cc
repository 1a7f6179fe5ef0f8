// StopPipe: the classic self-pipe; the signal handler only writes one byte (async-signal-safe).
#include "amqp/stop_pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include "core/signals.h"

namespace {

void WakeByPipe(void* arg) {
  int fd = *static_cast<int*>(arg);
  char b = 1;
  ssize_t n = write(fd, &b, 1);
  (void)n;  // a full pipe already wakes the loop
}

}  // namespace

StopPipe::StopPipe() {
  if (pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  InstallStopSignals();
  if (fds_[1] >= 0) SetStopWakeup(WakeByPipe, &fds_[1]);
}

StopPipe::~StopPipe() {
  SetStopWakeup(nullptr, nullptr);
  if (fds_[0] >= 0) close(fds_[0]);
  if (fds_[1] >= 0) close(fds_[1]);
}

void StopPipe::Drain() {
  char buf[64];
  while (fds_[0] >= 0 && read(fds_[0], buf, sizeof buf) > 0) {
  }
}
