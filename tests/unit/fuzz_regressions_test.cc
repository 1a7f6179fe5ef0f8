// What the fuzz targets found, kept fixed beside their corpus files (tests/fuzz/corpus).
#include <gtest/gtest.h>

#include <string>

#include "twitch/token_store.h"

// corpus/token_store/nul.json: a NUL in a token was read, and written back cut short.
TEST(FuzzRegressionTest, TokenStoreRefusesNul) {
  StoredToken t;
  std::string err;
  EXPECT_FALSE(TokenFromJson(R"({"access_token":"a\u0000b"})", &t, &err));
  EXPECT_EQ(err, "a NUL character in a string");
  EXPECT_FALSE(TokenFromJson(R"({"access_token":"a","login":"x\u0000"})", &t, &err));
  EXPECT_TRUE(TokenFromJson(R"({"access_token":"ab"})", &t, &err)) << err;
}

// corpus/token_store/odd.json: 9999-12-31T23:59:60Z is the year 10000, which the store cannot
// write back.
TEST(FuzzRegressionTest, TokenStoreRefusesYear10000) {
  StoredToken t;
  std::string err;
  EXPECT_FALSE(
      TokenFromJson(R"({"access_token":"a","expires_at":"9999-12-31T23:59:60Z"})", &t, &err));
  EXPECT_EQ(err, "expires_at: not an RFC 3339 time");
  ASSERT_TRUE(
      TokenFromJson(R"({"access_token":"a","expires_at":"9999-12-31T23:59:59Z"})", &t, &err))
      << err;
  StoredToken back;
  ASSERT_TRUE(TokenFromJson(TokenToJson(t), &back, &err)) << err;
  EXPECT_EQ(back.expires_at_ms, t.expires_at_ms);
}
