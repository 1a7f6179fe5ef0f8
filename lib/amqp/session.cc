// The session loop. Its states: connected (the client works, then the frames at hand are taken;
// poll waits on the broker socket, the stop pipe and the client's input, waking at least every
// few seconds so heartbeats are sent while nothing happens) or disconnected (only the stop pipe
// is polled while the backoff runs out; then reconnect, declare the exchange, set the client up).
// A stop request is handed to the client before any more frames are taken.
#include "amqp/session.h"

#include <errno.h>
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "amqp/stop_pipe.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "core/signals.h"

AmqpStep AmqpSession::Lost(const std::string& why) {
  client_->Losing();
  conn_.Drop();
  reconnector_.Lost(why, client_->LostNote());
  return AmqpStep::kLost;
}

// Each attempt takes the next --url: after a failure, or a lost connection, another broker (of a
// cluster) is tried first.
AmqpFailure AmqpSession::Connect(std::string* err) {
  url_ = urls_[next_url_];
  next_url_ = (next_url_ + 1) % urls_.size();
  AmqpFailure f = conn_.Open(url_, opts_, err);
  if (f != AmqpFailure::kNone) return f;
  if (!exchange_.name.empty()) {
    amqp_exchange_declare(conn_.get(), kAmqpChannel, amqp_cstring_bytes(exchange_.name.c_str()),
                          amqp_cstring_bytes(exchange_.type.c_str()), exchange_.passive,
                          /*durable=*/1, /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
    f = conn_.Check(("declaring exchange " + exchange_.name).c_str(), err);
  }
  if (f == AmqpFailure::kNone) f = client_->SetUp(err);
  if (f != AmqpFailure::kNone) conn_.Drop();
  return f;
}

AmqpStep AmqpSession::TakeFrames() {
  amqp_frame_t frame;
  std::string lost_why;
  AmqpConnection::Next next;
  while ((next = conn_.NextMethod(&frame, &lost_why)) == AmqpConnection::Next::kMethod) {
    amqp_method_number_t id = frame.payload.method.id;
    if (id == AMQP_CONNECTION_CLOSE_METHOD || id == AMQP_CHANNEL_CLOSE_METHOD) {
      std::string why;
      AmqpFailure f = conn_.HandleClose(frame, &why);
      if (f == AmqpFailure::kTransient) return Lost(why);
      LogError("%s", why.c_str());
      conn_.Drop();
      exit_ = f == AmqpFailure::kCredentials ? kExitCredentials : kExitFailure;
      return client_->Refused();
    }
    AmqpStep s = client_->Method(frame);
    if (s != AmqpStep::kContinue) return s;
    if (StopRequested() && !client_->Stopping()) break;  // the stop first, then the rest
  }
  if (next == AmqpConnection::Next::kLost) return Lost(lost_why);
  return client_->FramesTaken();
}

AmqpStep AmqpSession::Poll(int stop_fd) {
  struct pollfd fds[3];
  nfds_t nfds = 0;
  fds[nfds++] = {stop_fd, POLLIN, 0};
  int input = -1;
  int timeout;
  if (conn_.is_open()) {
    fds[nfds++] = {conn_.fd(), POLLIN, 0};
    AmqpSessionClient::Wait wait = client_->NextWait();
    if (wait.fd >= 0) {
      input = static_cast<int>(nfds);
      fds[nfds++] = {wait.fd, POLLIN, 0};
    }
    timeout = (wait.now || conn_.HasBufferedInput()) ? 0 : conn_.HeartbeatWakeMs();
    timeout = std::min(timeout, wait.max_ms);
  } else {
    timeout = reconnector_.WaitMs();
  }
  if (poll(fds, nfds, timeout) < 0 && errno != EINTR) {
    LogError("poll: %s", strerror(errno));
    exit_ = kExitFailure;
    return AmqpStep::kExit;
  }
  if (input >= 0 && (fds[input].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    return client_->Readable();
  }
  return AmqpStep::kContinue;
}

int AmqpSession::Run() {
  std::string err;
  for (const std::string& u : opts_.urls) {
    AmqpUrl url;
    if (!ParseAmqpUrl(u, &url, &err)) {
      LogError("--url: %s", err.c_str());
      return kExitUsage;
    }
    urls_.push_back(url);
  }
  if (urls_.empty()) {
    LogError("--url: no URL");
    return kExitUsage;
  }
  url_ = urls_[0];
  if (!client_->Prepare(&err)) {
    LogError("%s", err.c_str());
    return kExitUsage;
  }
  StopPipe stop;
  for (;;) {
    AmqpStep step = AmqpStep::kContinue;
    bool again = false;  // look at the new connection before waiting
    if (StopRequested() && !client_->Stopping()) {
      stop.Drain();
      step = client_->Stop();
    }
    if (step != AmqpStep::kContinue) {
      // acted on below
    } else if (!conn_.is_open()) {
      if (client_->Done()) {
        step = AmqpStep::kDone;
      } else {
        int status = kExitOk;
        auto r = reconnector_.Attempt([this](std::string* e) { return Connect(e); },
                                      client_->GiveUpNote(), &status);
        if (r == Reconnector::Result::kExit) return status;
        if (r == Reconnector::Result::kConnected) {
          step = client_->Connected();
          again = true;
        }
      }
    } else {
      step = client_->Work();
      if (step == AmqpStep::kContinue) step = TakeFrames();
      if (step == AmqpStep::kContinue && client_->Done()) step = AmqpStep::kDone;
    }
    if (step == AmqpStep::kContinue && !again) step = Poll(stop.fd());
    switch (step) {
      case AmqpStep::kContinue:
      case AmqpStep::kLost:
        break;
      case AmqpStep::kDone:
        return client_->Ended();
      case AmqpStep::kExit:
        return exit_;
    }
  }
}
