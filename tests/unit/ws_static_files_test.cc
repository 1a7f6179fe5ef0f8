// Static files of ws-serve: nothing outside the root, whatever the request path.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "http/static_files.h"

namespace {

class WsStaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ws_static_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    ASSERT_EQ(mkdir((base_ + "/root").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((base_ + "/root/css").c_str(), 0755), 0);
    std::ofstream(base_ + "/root/index.html") << "<p>hi</p>";
    std::ofstream(base_ + "/root/css/a.css") << "p{}";
    std::ofstream(base_ + "/root/.secret") << "x";
    std::ofstream(base_ + "/outside.txt") << "secret";
    ASSERT_EQ(symlink((base_ + "/outside.txt").c_str(), (base_ + "/root/escape.txt").c_str()), 0);
    ASSERT_EQ(symlink("css/a.css", (base_ + "/root/inside.css").c_str()), 0);
    ASSERT_TRUE(RealDirectory(base_ + "/root", &root_));
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + base_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }
  FileLookup Look(const std::string& path) { return ResolveStaticFile(root_, path, &file_); }

  std::string base_, root_, file_;
};

TEST_F(WsStaticFiles, ServesFilesAndIndex) {
  EXPECT_EQ(Look("/"), FileLookup::kFound);
  EXPECT_EQ(file_, root_ + "/index.html");
  EXPECT_EQ(Look("/css/a.css"), FileLookup::kFound);
  EXPECT_EQ(Look("//css/./a.css"), FileLookup::kFound);
  EXPECT_EQ(Look("/inside.css"), FileLookup::kFound);  // a symlink that stays inside
}

TEST_F(WsStaticFiles, NeverLeavesTheRoot) {
  EXPECT_EQ(Look("/../outside.txt"), FileLookup::kForbidden);
  EXPECT_EQ(Look("/css/../../outside.txt"), FileLookup::kForbidden);
  EXPECT_EQ(Look("/css/.."), FileLookup::kForbidden);
  EXPECT_EQ(Look("/escape.txt"), FileLookup::kForbidden);
  EXPECT_EQ(Look("outside.txt"), FileLookup::kForbidden);
  EXPECT_EQ(Look(std::string("/index.html\0/x", 14)), FileLookup::kForbidden);
  EXPECT_EQ(Look("/..\\outside.txt"), FileLookup::kForbidden);
}

TEST_F(WsStaticFiles, MissingAndHiddenAreNotFound) {
  EXPECT_EQ(Look("/nope.html"), FileLookup::kNotFound);
  EXPECT_EQ(Look("/.secret"), FileLookup::kNotFound);
  EXPECT_EQ(Look("/css/a.css/x"), FileLookup::kNotFound);
}

TEST(WsContentType, ByExtension) {
  EXPECT_STREQ(ContentTypeFor("/a/index.html"), "text/html; charset=utf-8");
  EXPECT_STREQ(ContentTypeFor("x.JS"), "text/javascript; charset=utf-8");
  EXPECT_STREQ(ContentTypeFor("x.css"), "text/css; charset=utf-8");
  EXPECT_STREQ(ContentTypeFor("x.png"), "image/png");
  EXPECT_STREQ(ContentTypeFor("x.woff2"), "font/woff2");
  EXPECT_STREQ(ContentTypeFor("/dir.d/file"), "application/octet-stream");
}

}  // namespace
