// Unit tests of lib/core/output_queue: order, partial writes, EAGAIN, EPIPE, other errors, the
// bound, and the flags guard. A pipe shrunk to one page stands in for a slow reader.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "core/output.h"
#include "core/output_queue.h"

namespace {

// A pipe of one page whose write end is non-blocking; closes what is left open.
struct SmallPipe {
  int fds[2] = {-1, -1};
  SmallPipe() {
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    fcntl(fds[1], F_SETPIPE_SZ, 4096);
    fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  }
  ~SmallPipe() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
  size_t capacity() const { return static_cast<size_t>(fcntl(fds[1], F_GETPIPE_SZ)); }
  std::string ReadAll() {  // what the pipe holds now
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    std::string got;
    char buf[8192];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    return got;
  }
};

std::string Record(char c, size_t size) { return std::string(size - 1, c) + "\n"; }

TEST(OutputQueueTest, WritesRecordsInOrderAndDrains) {
  SmallPipe p;
  OutputQueue q(1 << 20);
  q.Push("one\n");
  q.Push("two\n");
  q.Push("");  // nothing to write: not queued
  EXPECT_EQ(q.records(), 2u);
  EXPECT_EQ(q.bytes(), 8u);
  std::string err;
  EXPECT_EQ(q.FlushTo(p.fds[1], &err), OutputQueue::Flush::kOk);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(p.ReadAll(), "one\ntwo\n");
  EXPECT_EQ(q.FlushTo(p.fds[1], &err), OutputQueue::Flush::kOk);  // nothing left: no-op
}

TEST(OutputQueueTest, PartialWritesGoOnWhereTheyStopped) {
  SmallPipe p;
  size_t cap = p.capacity();
  ASSERT_GT(cap, 0u);
  OutputQueue q(1 << 20);
  std::string want;
  for (char c : {'a', 'b', 'c', 'd', 'e'}) {
    std::string r = Record(c, cap * 2 / 3 + 1);  // never a whole number of pipe buffers
    want += r;
    q.Push(r);
  }
  std::string got, err;
  int blocked = 0;
  for (int i = 0; i < 100 && !q.empty(); ++i) {
    OutputQueue::Flush f = q.FlushTo(p.fds[1], &err);
    ASSERT_TRUE(f == OutputQueue::Flush::kBlocked || f == OutputQueue::Flush::kOk) << err;
    if (f == OutputQueue::Flush::kBlocked) ++blocked;
    got += p.ReadAll();
    EXPECT_EQ(q.bytes(), want.size() - got.size());  // what is not out is queued, to the byte
  }
  EXPECT_GE(blocked, 2);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(got, want);  // every byte once, in order: no record cut short or repeated
}

TEST(OutputQueueTest, AFullPipeIsEagainAndNothingIsLost) {
  SmallPipe p;
  size_t cap = p.capacity();
  OutputQueue q(1 << 20);
  std::string big = Record('x', cap * 3);
  q.Push(big);
  q.Push("after\n");
  std::string err;
  EXPECT_EQ(q.FlushTo(p.fds[1], &err), OutputQueue::Flush::kBlocked);
  EXPECT_EQ(q.records(), 2u);  // the big one went out in part only
  EXPECT_EQ(q.bytes(), big.size() + 6 - cap);
  EXPECT_EQ(q.FlushTo(p.fds[1], &err), OutputQueue::Flush::kBlocked);  // still full: no change
  EXPECT_EQ(q.bytes(), big.size() + 6 - cap);
  std::string got = p.ReadAll();
  for (int i = 0; i < 10 && !q.empty(); ++i) {
    q.FlushTo(p.fds[1], &err);
    got += p.ReadAll();
  }
  EXPECT_EQ(got, big + "after\n");
}

TEST(OutputQueueTest, AGoneReaderIsEpipeAndTheRecordsStay) {
  std::signal(SIGPIPE, SIG_IGN);
  SmallPipe p;
  close(p.fds[0]);
  p.fds[0] = -1;
  OutputQueue q(1 << 20);
  q.Push("lost\n");
  std::string err;
  EXPECT_EQ(q.FlushTo(p.fds[1], &err), OutputQueue::Flush::kClosed);
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(q.records(), 1u);
}

TEST(OutputQueueTest, OtherWriteErrorsAreErrors) {
  SmallPipe p;
  OutputQueue q(1 << 20);
  q.Push("x\n");
  std::string err;
  EXPECT_EQ(q.FlushTo(p.fds[0], &err), OutputQueue::Flush::kError);  // the read end: EBADF
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(q.bytes(), 2u);
}

TEST(OutputQueueTest, FullAboveTheBoundDrainedAtHalf) {
  SmallPipe p;
  size_t cap = p.capacity();
  size_t bound = cap * 2 + cap / 2;
  OutputQueue q(bound);
  EXPECT_EQ(q.max_bytes(), bound);
  EXPECT_FALSE(q.Full());
  EXPECT_TRUE(q.Drained());
  q.Push(Record('a', bound));
  EXPECT_FALSE(q.Full());  // at the bound is not over it
  EXPECT_FALSE(q.Drained());
  q.Push(Record('b', cap / 2));
  EXPECT_TRUE(q.Full());  // the queue takes it all the same: the caller stops producing
  EXPECT_EQ(q.bytes(), bound + cap / 2);
  std::string err;
  EXPECT_EQ(q.FlushTo(p.fds[1], &err), OutputQueue::Flush::kBlocked);  // one pipe buffer out
  EXPECT_EQ(q.bytes(), bound + cap / 2 - cap);
  EXPECT_FALSE(q.Full());
  EXPECT_FALSE(q.Drained());  // below the bound, still above half of it
  p.ReadAll();
  EXPECT_EQ(q.FlushTo(p.fds[1], &err), OutputQueue::Flush::kBlocked);
  EXPECT_EQ(q.bytes(), bound + cap / 2 - 2 * cap);
  EXPECT_TRUE(q.Drained());
}

TEST(NonBlockingFdTest, SetsAndRestoresTheFlags) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  int before = fcntl(fds[1], F_GETFL);
  ASSERT_FALSE(before & O_NONBLOCK);
  {
    NonBlockingFd guard(fds[1]);
    EXPECT_TRUE(guard.ok());
    EXPECT_TRUE(fcntl(fds[1], F_GETFL) & O_NONBLOCK);
  }
  EXPECT_EQ(fcntl(fds[1], F_GETFL), before);
  close(fds[0]);
  close(fds[1]);
  NonBlockingFd closed(fds[1]);  // no longer open: untouched, and says so
  EXPECT_FALSE(closed.ok());
}

}  // namespace

namespace {

// A failed write from the queue must reach the exit-time check, as one by WriteLine() does.
TEST(OutputQueueTest, AFailedStdoutWriteIsReportedAtExit) {
  EXPECT_EXIT(
      {
        int full = open("/dev/full", O_WRONLY);
        dup2(full, 1);
        OutputQueue q(1024);
        q.Push("a record\n");
        std::string err;
        bool failed = q.FlushTo(1, &err) == OutputQueue::Flush::kError;
        bool clean = CheckStdoutAtExit(&err);
        _exit(failed && !clean ? 7 : 0);
      },
      ::testing::ExitedWithCode(7), "");
}

}  // namespace
