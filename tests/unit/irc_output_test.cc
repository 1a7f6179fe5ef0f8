// IrcEventWriter: lines in, NDJSON records out (to a pipe here), bad lines counted, and the
// repeated-id filter that RECONNECT's overlapping connections rely on.
#include "twitch/irc_output.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <string>

namespace {

const char kRaid[] =
    "@display-name=H;id=raid-1;login=h;msg-id=raid;msg-param-viewerCount=3;room-id=1;"
    "tmi-sent-ts=1000;user-id=2 :tmi.twitch.tv USERNOTICE #c";

class Pipe {
 public:
  Pipe() { EXPECT_EQ(pipe2(fds_, O_CLOEXEC | O_NONBLOCK), 0); }
  ~Pipe() {
    close(fds_[0]);
    close(fds_[1]);
  }
  int write_fd() const { return fds_[1]; }
  std::string Drain() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds_[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  int fds_[2];
};

size_t CountLines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(IrcOutput, WritesRecordsAndCountsBadLines) {
  Pipe p;
  IrcMapOptions opts;
  opts.all = true;
  IrcEventWriter w(opts, "test", p.write_fd());
  IrcMessage msg;
  std::string err;
  EXPECT_EQ(w.Handle(kRaid, 1, &msg, &err), IrcEventWriter::Result::kOk);
  EXPECT_EQ(msg.command, "USERNOTICE");
  EXPECT_EQ(w.Handle("@only=tags", 2, &msg, &err), IrcEventWriter::Result::kOk);
  EXPECT_TRUE(msg.command.empty());
  EXPECT_EQ(w.Handle("", 3, &msg, &err), IrcEventWriter::Result::kOk);  // blank: not counted
  std::string out = p.Drain();
  EXPECT_EQ(CountLines(out), 2u);  // the irc record and the raid event
  EXPECT_EQ(out.rfind("{\"type\":\"irc\"", 0), 0u);
  EXPECT_NE(out.find("\"type\":\"raid\""), std::string::npos);
  EXPECT_EQ(w.lines(), 3u);
  EXPECT_EQ(w.skipped(), 1u);
  EXPECT_EQ(w.written(), 2u);
}

TEST(IrcOutput, RepeatedIdsAreWrittenOnce) {
  Pipe p;
  IrcEventWriter w(IrcMapOptions{}, "test", p.write_fd());
  w.SkipRepeatedIds(2);
  IrcMessage msg;
  std::string err;
  std::string raid2 = kRaid, raid3 = kRaid;
  raid2.replace(raid2.find("raid-1"), 6, "raid-2");
  raid3.replace(raid3.find("raid-1"), 6, "raid-3");
  for (const std::string& line :
       {std::string(kRaid), std::string(kRaid), raid2, raid3, std::string(kRaid)}) {
    EXPECT_EQ(w.Handle(line, 1, &msg, &err), IrcEventWriter::Result::kOk);
    EXPECT_EQ(msg.command, "USERNOTICE");  // the caller still sees every line
  }
  // raid-1 twice in a row is written once; after two other ids it has left the window.
  EXPECT_EQ(CountLines(p.Drain()), 4u);
  EXPECT_EQ(w.repeated(), 1u);
  // Lines without an id (PING, numerics) are never filtered.
  EXPECT_EQ(w.Handle("PING :x", 2, &msg, &err), IrcEventWriter::Result::kOk);
  EXPECT_EQ(w.Handle("PING :x", 3, &msg, &err), IrcEventWriter::Result::kOk);
  EXPECT_EQ(w.repeated(), 1u);
}

TEST(IrcOutput, ClosedReaderIsReported) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  IrcEventWriter w(IrcMapOptions{}, "test", fds[1]);
  IrcMessage msg;
  std::string err;
  EXPECT_EQ(w.Handle(kRaid, 1, &msg, &err), IrcEventWriter::Result::kClosed);
  close(fds[1]);
}

}  // namespace
