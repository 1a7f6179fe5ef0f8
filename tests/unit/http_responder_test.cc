// The HTTP responder's request body, collected up to its bound.
#include <gtest/gtest.h>

#include "http/responder.h"

TEST(HttpBody, CollectsChunksUpToTheBound) {
  HttpBody body(10);
  EXPECT_TRUE(body.Append("hello", 5));
  EXPECT_TRUE(body.Append(" you", 4));
  EXPECT_EQ(body.data(), "hello you");
  EXPECT_FALSE(body.TooLarge());
  EXPECT_FALSE(body.Append("!!", 2));
  EXPECT_TRUE(body.TooLarge());
  EXPECT_EQ(body.data(), "");
  EXPECT_FALSE(body.Append("x", 1));  // stays too large until cleared
  body.Clear();
  EXPECT_FALSE(body.TooLarge());
  EXPECT_TRUE(body.Append("0123456789", 10));
  EXPECT_EQ(body.data().size(), 10u);
}

TEST(HttpMethod, Names) {
  EXPECT_STREQ(MethodName(HttpMethod::kGet), "GET");
  EXPECT_STREQ(MethodName(HttpMethod::kHead), "HEAD");
  EXPECT_STREQ(MethodName(HttpMethod::kPost), "POST");
  EXPECT_STREQ(MethodName(HttpMethod::kOther), "request");
}
