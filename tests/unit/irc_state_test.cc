// twitch-irc --state-file: the file's round trip and refusals, and StdoutProgress, which says up
// to when what was received has reached stdout.
#include "twitch/irc_state.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/irc_state_test.XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(IrcStateFile, RoundTripAndMissingFile) {
  TempDir dir;
  IrcState state{{"maplecrate", 1767225600123}, {"other", 1767225601000}};
  std::string err;
  ASSERT_TRUE(SaveIrcState(dir.File("s"), state, &err)) << err;
  IrcState back;
  ASSERT_TRUE(LoadIrcState(dir.File("s"), &back, &err)) << err;
  EXPECT_EQ(back, state);
  ASSERT_TRUE(LoadIrcState(dir.File("missing"), &back, &err)) << err;
  EXPECT_TRUE(back.empty());
}

TEST(IrcStateFile, RefusesWhatIsNotAStateFile) {
  TempDir dir;
  IrcState back;
  std::string err;
  for (const char* text : {"not json", "{\"v\":2,\"channels\":{}}", "{\"v\":1}",
                           "{\"v\":1,\"channels\":{\"c\":\"yesterday\"}}"}) {
    std::ofstream(dir.File("s")) << text;
    EXPECT_FALSE(LoadIrcState(dir.File("s"), &back, &err)) << text;
    EXPECT_NE(err.find("s: "), std::string::npos) << err;
  }
}

TEST(StdoutProgress, AdvancesOnlyOnceTheRecordsOfAMessageAreOut) {
  StdoutProgress p(0);
  EXPECT_EQ(p.WrittenUpTo(0), 0);
  p.Received(1000, 2);  // two records queued by the message of t=1000
  p.Received(2000, 5);
  EXPECT_EQ(p.WrittenUpTo(1), 0);
  EXPECT_EQ(p.WrittenUpTo(2), 1000);
  EXPECT_EQ(p.WrittenUpTo(4), 1000);
  EXPECT_EQ(p.WrittenUpTo(5), 2000);
  p.Received(3000, 5);  // no records: out as soon as the ones before it are
  EXPECT_EQ(p.WrittenUpTo(5), 3000);
}

TEST(StdoutProgress, MarksCloseTogetherMergeIntoTheLater) {
  StdoutProgress p(100);
  p.Received(1000, 1);
  p.Received(1050, 2);  // merged: t=1000 is no longer told apart
  EXPECT_EQ(p.WrittenUpTo(1), 0);
  EXPECT_EQ(p.WrittenUpTo(2), 1050);
}

}  // namespace
