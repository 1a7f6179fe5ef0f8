// Hand-made text frames for ws-serve's batched writes.
#include <gtest/gtest.h>

#include <string>

#include "ws/frame.h"

namespace {

std::string Frame(size_t len) {
  std::string payload(len, 'x');
  std::string out;
  AppendTextFrame(reinterpret_cast<const unsigned char*>(payload.data()), len, &out);
  return out;
}

TEST(WsFrame, ShortLengthInOneByte) {
  std::string f = Frame(5);
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(static_cast<unsigned char>(f[0]), 0x81);
  EXPECT_EQ(static_cast<unsigned char>(f[1]), 5);
  EXPECT_EQ(f.substr(2), "xxxxx");
  EXPECT_EQ(Frame(0), std::string("\x81\x00", 2));
  EXPECT_EQ(static_cast<unsigned char>(Frame(125)[1]), 125);
}

TEST(WsFrame, MediumLengthInTwoBytes) {
  std::string f = Frame(126);
  ASSERT_EQ(f.size(), 4u + 126);
  EXPECT_EQ(static_cast<unsigned char>(f[1]), 126);
  EXPECT_EQ(static_cast<unsigned char>(f[2]), 0);
  EXPECT_EQ(static_cast<unsigned char>(f[3]), 126);
  f = Frame(65535);
  EXPECT_EQ(static_cast<unsigned char>(f[2]), 0xff);
  EXPECT_EQ(static_cast<unsigned char>(f[3]), 0xff);
}

TEST(WsFrame, LongLengthInEightBytes) {
  std::string f = Frame(65536);
  ASSERT_EQ(f.size(), 10u + 65536);
  EXPECT_EQ(static_cast<unsigned char>(f[1]), 127);
  EXPECT_EQ(f.substr(2, 8), std::string("\0\0\0\0\0\x01\0\0", 8));
}

TEST(WsFrame, FramesFollowEachOther) {
  std::string out;
  AppendTextFrame(reinterpret_cast<const unsigned char*>("ab"), 2, &out);
  AppendTextFrame(reinterpret_cast<const unsigned char*>("c"), 1, &out);
  EXPECT_EQ(out, std::string("\x81\x02"
                             "ab"
                             "\x81\x01"
                             "c",
                             7));
}

}  // namespace
