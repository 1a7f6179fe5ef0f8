// Unit tests of lib/core: line reading, UTF-8, time, JSON, output, logging.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/cli.h"
#include "core/json.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/output.h"
#include "core/signals.h"
#include "core/time.h"
#include "core/utf8.h"

namespace {

std::vector<std::string> AllLines(LineReader& r, int* too_long = nullptr) {
  std::vector<std::string> out;
  std::string line;
  for (;;) {
    auto st = r.Next(&line);
    if (st == LineReader::Status::kNone) break;
    if (st == LineReader::Status::kTooLong) {
      if (too_long) ++*too_long;
      continue;
    }
    out.push_back(line);
  }
  return out;
}

TEST(LineReader, SplitsAcrossFeeds) {
  LineReader r(100);
  r.Feed("one\ntw");
  EXPECT_EQ(AllLines(r), std::vector<std::string>{"one"});
  r.Feed("o\r\nthree");
  EXPECT_EQ(AllLines(r), std::vector<std::string>{"two"});
  r.Finish();
  EXPECT_EQ(AllLines(r), std::vector<std::string>{"three"});
  EXPECT_EQ(r.line_number(), 3u);
}

TEST(LineReader, KeepsEmptyLines) {
  LineReader r(10);
  r.Feed("\n\na\n");
  EXPECT_EQ(AllLines(r), (std::vector<std::string>{"", "", "a"}));
}

TEST(LineReader, SkipsTooLongLineWholeAndBoundsMemory) {
  LineReader r(5);
  int too_long = 0;
  r.Feed("ok\n0123456789");
  EXPECT_EQ(AllLines(r, &too_long), std::vector<std::string>{"ok"});
  for (int i = 0; i < 1000; ++i) r.Feed("xxxxxxxxxx");
  AllLines(r, &too_long);
  EXPECT_LT(r.buffered(), 64u);
  r.Feed("yyy\nfine\n");
  EXPECT_EQ(AllLines(r, &too_long), std::vector<std::string>{"fine"});
  EXPECT_EQ(too_long, 1);
  EXPECT_EQ(r.line_number(), 3u);
}

TEST(LineReader, ExactlyMaxIsAccepted) {
  LineReader r(5);
  r.Feed("12345\n123456\n");
  int too_long = 0;
  EXPECT_EQ(AllLines(r, &too_long), std::vector<std::string>{"12345"});
  EXPECT_EQ(too_long, 1);
}

TEST(LineReader, TooLongLastLineWithoutNewline) {
  LineReader r(3);
  r.Feed("abcdef");
  r.Finish();
  int too_long = 0;
  EXPECT_TRUE(AllLines(r, &too_long).empty());
  EXPECT_EQ(too_long, 1);
}

TEST(Utf8, AcceptsAndRejects) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\x89"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(Time, FormatsAndParses) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(1772388252551), "2026-03-01T18:04:12.551Z");
  int64_t ms = 0;
  ASSERT_TRUE(ParseRfc3339("2026-03-01T18:04:12.551Z", &ms));
  EXPECT_EQ(ms, 1772388252551);
  ASSERT_TRUE(ParseRfc3339("2026-03-01T19:04:12.5512345+01:00", &ms));
  EXPECT_EQ(ms, 1772388252551);
  ASSERT_TRUE(ParseRfc3339("2026-03-01T18:04:12Z", &ms));
  EXPECT_EQ(ms, 1772388252000);
  EXPECT_FALSE(ParseRfc3339("2026-03-01 18:04:12Z", &ms));
  EXPECT_FALSE(ParseRfc3339("2026-13-01T18:04:12Z", &ms));
  EXPECT_FALSE(ParseRfc3339("2026-03-01T18:04:12", &ms));
  EXPECT_FALSE(ParseRfc3339("2026-03-01T18:04:12.Z", &ms));
}

TEST(Json, ParseDumpAndPath) {
  std::string err;
  JsonPtr j = JsonParse(R"( {"a":{"b":"x"},"n":1,"u":"caf\u00e9"} )", &err);
  ASSERT_TRUE(j) << err;
  EXPECT_EQ(JsonDump(j.get()), "{\"a\":{\"b\":\"x\"},\"n\":1,\"u\":\"caf\xc3\xa9\"}");
  EXPECT_STREQ(json_string_value(JsonPath(j.get(), "a.b")), "x");
  EXPECT_EQ(JsonPath(j.get(), "a.c"), nullptr);
  EXPECT_EQ(JsonPath(j.get(), "n.x"), nullptr);
  EXPECT_EQ(JsonString(j.get(), "u"), "caf\xc3\xa9");
  EXPECT_EQ(JsonString(j.get(), "n", "none"), "none");
  EXPECT_FALSE(JsonParse("{\"a\":1} trailing", &err));
  EXPECT_FALSE(JsonParse("", &err));
  EXPECT_FALSE(err.empty());
}

TEST(Output, ReportsClosedPipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string err;
  EXPECT_EQ(WriteLine("hello", &err, fds[1]), WriteResult::kOk);
  char buf[16] = {};
  ASSERT_EQ(read(fds[0], buf, sizeof buf), 6);
  EXPECT_STREQ(buf, "hello\n");
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  EXPECT_EQ(WriteLine("again", &err, fds[1]), WriteResult::kClosed);
  close(fds[1]);
}

TEST(Output, WaitsOutNonBlockingPipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  fcntl(fds[1], F_SETFL, O_NONBLOCK);
  std::string big(200000, 'x');  // larger than the pipe buffer
  pid_t child = fork();
  if (child == 0) {
    close(fds[1]);
    char buf[4096];
    size_t total = 0;
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) total += static_cast<size_t>(n);
    _exit(total == big.size() + 1 ? 0 : 1);
  }
  close(fds[0]);
  std::string err;
  EXPECT_EQ(WriteLine(big, &err, fds[1]), WriteResult::kOk) << err;
  close(fds[1]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(Log, WaitsBrieflyForAFullNonBlockingStderr) {
  EXPECT_EXIT(
      {
        int fds[2];
        if (pipe(fds) != 0) _exit(2);
        fcntl(fds[1], F_SETFL, O_NONBLOCK);
        std::string fill(4096, 'f');
        size_t filled = 0;
        ssize_t n;
        while ((n = write(fds[1], fill.data(), fill.size())) > 0) filled += static_cast<size_t>(n);
        dup2(fds[1], 2);  // stderr: a pipe that is full, and non-blocking
        std::string got;
        std::thread reader([&] {
          usleep(100 * 1000);  // the reader comes back after 100 ms
          char buf[65536];
          struct pollfd p = {fds[0], POLLIN, 0};
          while (poll(&p, 1, 1000) == 1) {
            ssize_t r = read(fds[0], buf, sizeof buf);
            if (r <= 0) break;
            got.append(buf, static_cast<size_t>(r));
          }
        });
        LogInit("core-test");
        LogError("%s", "a diagnostic that must not be lost");
        reader.join();
        _exit(got.substr(filled) == "core-test: error: a diagnostic that must not be lost\n" ? 0
                                                                                             : 1);
      },
      testing::ExitedWithCode(0), "");
}

TEST(ReadSecret, FileOnTheCommandLineWinsOverTheEnvironment) {
  std::string path = testing::TempDir() + "/secret." + std::to_string(getpid());
  std::ofstream(path) << "from-file\r\nsecond line\n";
  setenv("SERVITOR_TEST_SECRET", "from-env", 1);
  std::string secret, err;
  ASSERT_TRUE(ReadSecret(path, "SERVITOR_TEST_SECRET", &secret, &err)) << err;
  EXPECT_EQ(secret, "from-file");
  secret.clear();
  ASSERT_TRUE(ReadSecret("", "SERVITOR_TEST_SECRET", &secret, &err));
  EXPECT_EQ(secret, "from-env");
  unsetenv("SERVITOR_TEST_SECRET");
  secret = "kept";
  ASSERT_TRUE(ReadSecret("", "SERVITOR_TEST_SECRET", &secret, &err));
  EXPECT_EQ(secret, "kept");
  EXPECT_FALSE(ReadSecret(path + ".missing", "SERVITOR_TEST_SECRET", &secret, &err));
  EXPECT_NE(err.find("cannot be read"), std::string::npos);
  std::ofstream(path, std::ios::trunc) << "\n";
  EXPECT_FALSE(ReadSecret(path, nullptr, &secret, &err));
  EXPECT_NE(err.find("empty"), std::string::npos);
}

int g_wakes = 0;
void CountWake(void*) { ++g_wakes; }

TEST(Signals, FirstSignalSetsFlagAndWakes) {
  ResetStopForTesting();
  InstallStopSignals();
  SetStopWakeup(CountWake, nullptr);
  EXPECT_FALSE(StopRequested());
  raise(SIGTERM);
  EXPECT_TRUE(StopRequested());
  EXPECT_EQ(StopSignal(), SIGTERM);
  EXPECT_EQ(g_wakes, 1);
  SetStopWakeup(nullptr, nullptr);
  ResetStopForTesting();
}

TEST(Signals, SecondSignalExitsAtOnceUnlessItIsADuplicate) {
  EXPECT_EXIT(
      {
        ResetStopForTesting();
        InstallStopSignals();
        raise(SIGINT);
        raise(SIGINT);  // the same request delivered twice: ignored
        usleep(1100 * 1000);
        raise(SIGINT);  // the user insists
        _exit(0);       // not reached
      },
      testing::ExitedWithCode(1), "interrupted again");
}

}  // namespace

namespace {

TEST(Log, EscapesControlCharactersButKeepsUtf8) {
  EXPECT_EQ(LogEscape("plain text, é, ✓"), "plain text, é, ✓");
  EXPECT_EQ(LogEscape("\x1b[2J\x1b]0;owned\x07 x"), "\\e[2J\\e]0;owned\\x07 x");
  EXPECT_EQ(LogEscape("a\nb\rc\td\x7f"), "a\\nb\\rc\\td\\x7f");
  EXPECT_EQ(LogEscape("\xc2\x9b"
                      "31m"),
            "\\u009b31m");  // C1 CSI as UTF-8
  EXPECT_EQ(LogEscape("\x9b"
                      "31m \xff"),
            "\\x9b31m \\xff");  // bytes that are not UTF-8
  EXPECT_EQ(LogEscape(std::string("nul\0x", 5)), "nul\\x00x");
}

// Captures what Log writes to stderr while |f| runs.
template <typename F>
std::string CaptureStderr(F&& f) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  int saved = dup(2);
  dup2(fds[1], 2);
  close(fds[1]);
  f();
  dup2(saved, 2);
  close(saved);
  std::string out;
  char buf[4096];
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  return out;
}

TEST(Log, ADiagnosticWithControlCharactersIsOneEscapedLine) {
  std::string out = CaptureStderr([] { LogError("notice: %s", "\x1b[2Jclear\nsecond line"); });
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_NE(out.find("\\e[2Jclear\\nsecond line"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST(Log, RepeatedLibraryLinesAreCountedNotPrinted) {
  std::string out = CaptureStderr([] {
    for (int i = 0; i < 1000; ++i)
      LogLibraryLine("libwebsockets", LogLevel::kWarning, "accept: errno 24");
    LogLibraryLine("libwebsockets", LogLevel::kWarning, "something else");
  });
  size_t lines = static_cast<size_t>(std::count(out.begin(), out.end(), '\n'));
  EXPECT_EQ(lines, static_cast<size_t>(kLogRepeatBurst) + 2) << out;
  EXPECT_NE(out.find("repeated 997 more times"), std::string::npos) << out;
  EXPECT_NE(out.find("something else"), std::string::npos);
}

}  // namespace
