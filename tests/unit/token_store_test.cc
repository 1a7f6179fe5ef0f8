// Unit tests of lib/twitch/token_store: the JSON round trip, file and directory modes, refusal of
// a store others can read, atomic replacement under a concurrent reader, listing, and the lock.
#include "twitch/token_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace {

// A fresh directory under $TMPDIR, removed afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/tsXXXXXX";
    path = mkdtemp(&tmpl[0]);
  }
  ~TempDir() { (void)!system(("rm -rf '" + path + "'").c_str()); }
};

mode_t ModeOf(const std::string& p) {
  struct stat st;
  EXPECT_EQ(stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

StoredToken Sample(const std::string& access = "acc-1") {
  StoredToken t;
  t.login = "streamer_1";
  t.user_id = "141981764";
  t.client_id = "abc123";
  t.access_token = access;
  t.refresh_token = "ref-1";
  t.scopes = {"channel:read:subscriptions", "moderator:read:followers"};
  t.expires_at_ms = 1790000000000;
  return t;
}

TEST(TokenStoreTest, JsonRoundTrip) {
  StoredToken t = Sample(), back;
  std::string err;
  ASSERT_TRUE(TokenFromJson(TokenToJson(t), &back, &err)) << err;
  EXPECT_EQ(back.kind, "user");
  EXPECT_EQ(back.login, t.login);
  EXPECT_EQ(back.user_id, t.user_id);
  EXPECT_EQ(back.client_id, t.client_id);
  EXPECT_EQ(back.access_token, t.access_token);
  EXPECT_EQ(back.refresh_token, t.refresh_token);
  EXPECT_EQ(back.scopes, t.scopes);
  EXPECT_EQ(back.expires_at_ms, t.expires_at_ms);
}

TEST(TokenStoreTest, FromJsonRefusesWhatIsNoToken) {
  StoredToken t;
  std::string err;
  EXPECT_FALSE(TokenFromJson("{\"login\":\"x\"}", &t, &err));
  EXPECT_EQ(err, "no access_token");
  EXPECT_FALSE(TokenFromJson("oauth:abc", &t, &err));
  EXPECT_FALSE(TokenFromJson("{\"access_token\":\"a\",\"kind\":\"bot\"}", &t, &err));
}

TEST(TokenStoreTest, PathsAndNames) {
  EXPECT_TRUE(ValidLogin("streamer_1"));
  EXPECT_FALSE(ValidLogin("../etc"));
  EXPECT_FALSE(ValidLogin("Streamer"));
  EXPECT_FALSE(ValidLogin(""));
  EXPECT_FALSE(ValidLogin(std::string(26, 'a')));
  EXPECT_TRUE(ValidClientId("gp762nuuoqcoxypju8c569th9wz7q5"));
  EXPECT_FALSE(ValidClientId("a/b"));
  EXPECT_EQ(TokenFileForLogin("/d", "bob"), "/d/bob.json");
  EXPECT_EQ(TokenFileForApp("/d", "cid"), "/d/app-cid.json");
}

TEST(TokenStoreTest, StoreDirFollowsXdgConfigHome) {
  const char* old = getenv("XDG_CONFIG_HOME");
  std::string saved = old ? old : "";
  setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
  EXPECT_EQ(TokenStoreDir(), "/x/cfg/twitch-servitor");
  unsetenv("XDG_CONFIG_HOME");
  setenv("HOME", getenv("HOME") ? getenv("HOME") : "/h", 1);
  EXPECT_EQ(TokenStoreDir(), std::string(getenv("HOME")) + "/.config/twitch-servitor");
  if (old) setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
}

TEST(TokenStoreTest, PrivateDirIsCreated0700AndAnOpenOneRefused) {
  TempDir tmp;
  std::string dir = tmp.path + "/a/b/twitch-servitor", err;
  ASSERT_TRUE(EnsurePrivateDir(dir, &err)) << err;
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_TRUE(EnsurePrivateDir(dir, &err)) << err;
  chmod(dir.c_str(), 0755);
  EXPECT_FALSE(EnsurePrivateDir(dir, &err));
  EXPECT_EQ(err, dir + ": open to others (mode 0755); fix it with: chmod 700 " + dir);
}

TEST(TokenStoreTest, WrittenFileIs0600AndReadBack) {
  TempDir tmp;
  std::string path = tmp.path + "/bob.json", err;
  ASSERT_TRUE(WriteTokenFile(path, Sample(), &err)) << err;
  EXPECT_EQ(ModeOf(path), 0600u);
  StoredToken back;
  ASSERT_TRUE(ReadTokenFile(path, &back, &err)) << err;
  EXPECT_EQ(back.access_token, "acc-1");
  std::vector<std::string> files;
  ASSERT_TRUE(ListTokenFiles(tmp.path, &files, &err));
  EXPECT_EQ(files, std::vector<std::string>{path});  // no temporary file left behind
}

TEST(TokenStoreTest, FileReadableByOthersIsRefused) {
  TempDir tmp;
  std::string path = tmp.path + "/bob.json", err;
  ASSERT_TRUE(WriteTokenFile(path, Sample(), &err)) << err;
  chmod(path.c_str(), 0644);
  StoredToken back;
  EXPECT_FALSE(ReadTokenFile(path, &back, &err));
  EXPECT_NE(err.find("readable by others (mode 0644); fix it with: chmod 600 " + path),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("acc-1"), std::string::npos);
}

TEST(TokenStoreTest, MissingAndBrokenFiles) {
  TempDir tmp;
  std::string path = tmp.path + "/none.json", err;
  StoredToken t;
  EXPECT_FALSE(ReadTokenFile(path, &t, &err));
  EXPECT_EQ(err, path + ": No such file or directory");
  std::ofstream(tmp.path + "/bad.json") << "{\"access_token\":";
  chmod((tmp.path + "/bad.json").c_str(), 0600);
  EXPECT_FALSE(ReadTokenFile(tmp.path + "/bad.json", &t, &err));
  EXPECT_NE(err.find("not a token file"), std::string::npos) << err;
}

TEST(TokenStoreTest, AReaderDuringWritesNeverSeesAPartialFile) {
  TempDir tmp;
  std::string path = tmp.path + "/bob.json", err;
  ASSERT_TRUE(WriteTokenFile(path, Sample(std::string(3000, 'a')), &err));
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, bad{0};
  std::thread reader([&] {
    while (!stop) {
      StoredToken t;
      std::string e;
      if (!ReadTokenFile(path, &t, &e) || t.access_token.size() != 3000) ++bad;
      ++reads;
    }
  });
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(
        WriteTokenFile(path, Sample(std::string(3000, static_cast<char>('a' + i % 26))), &err))
        << err;
  }
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(bad.load(), 0);
}

TEST(TokenStoreTest, ListingLeavesOutLocksAndTemporaries) {
  TempDir tmp;
  std::string err;
  ASSERT_TRUE(WriteTokenFile(tmp.path + "/b.json", Sample(), &err));
  ASSERT_TRUE(WriteTokenFile(tmp.path + "/a.json", Sample(), &err));
  std::ofstream(tmp.path + "/a.json.lock");
  std::ofstream(tmp.path + "/.a.json.Xy12ab");
  std::vector<std::string> files;
  ASSERT_TRUE(ListTokenFiles(tmp.path, &files, &err));
  EXPECT_EQ(files, (std::vector<std::string>{tmp.path + "/a.json", tmp.path + "/b.json"}));
  ASSERT_TRUE(ListTokenFiles(tmp.path + "/missing", &files, &err));
  EXPECT_TRUE(files.empty());
}

TEST(TokenStoreTest, LockIsExclusive) {
  TempDir tmp;
  std::string path = tmp.path + "/bob.json", err;
  std::atomic<bool> second_has_it{false};
  auto first = std::make_unique<TokenFileLock>();
  ASSERT_TRUE(first->Lock(path, &err)) << err;
  EXPECT_EQ(ModeOf(path + ".lock"), 0600u);
  std::thread other([&] {
    TokenFileLock l;
    std::string e;
    if (l.Lock(path, &e)) second_has_it = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(second_has_it.load());
  first.reset();
  other.join();
  EXPECT_TRUE(second_has_it.load());
}

}  // namespace
