// ws-serve's --retain-file: lines read back, a line cut short by a crash ignored, rewritten.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "ws/retain_file.h"

namespace {

std::string TempPath() {
  char dir[] = "/tmp/retain-file-test.XXXXXX";
  EXPECT_NE(mkdtemp(dir), nullptr);
  return std::string(dir) + "/retained.ndjson";
}

std::string Contents(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(WsRetainFile, AppendsSyncsAndReadsBackTheLastLines) {
  std::string path = TempPath(), err;
  std::vector<std::string> lines;
  {
    RetainFile f;
    ASSERT_TRUE(f.Open(path, 2, &lines, &err)) << err;
    EXPECT_TRUE(lines.empty());
    f.Append("a");
    f.Append("b");
    f.Append("c");
    ASSERT_TRUE(f.Sync(&err)) << err;
  }
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  {
    std::ofstream(path, std::ios::app) << "cut-short";  // a crash in the middle of a line
  }
  RetainFile g;
  ASSERT_TRUE(g.Open(path, 2, &lines, &err)) << err;
  EXPECT_EQ(lines, (std::vector<std::string>{"b", "c"}));
}

TEST(WsRetainFile, RewriteKeepsOnlyWhatIsRetained) {
  std::string path = TempPath(), err;
  std::vector<std::string> lines;
  RetainFile f;
  ASSERT_TRUE(f.Open(path, 10, &lines, &err)) << err;
  for (int i = 0; i < 100; i++) f.Append("line" + std::to_string(i));
  EXPECT_TRUE(f.WantsCompaction(10));
  ASSERT_TRUE(f.Rewrite(
      [](const std::function<void(std::string_view)>& write) {
        write("line98");
        write("line99");
      },
      &err))
      << err;
  EXPECT_FALSE(f.WantsCompaction(10));
  f.Append("line100");
  ASSERT_TRUE(f.Sync(&err));
  EXPECT_EQ(Contents(path), "line98\nline99\nline100\n");
}
