// Secrets compared in constant time, and control characters found in text from outside.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/secret.h"
#include "core/utf8.h"

TEST(CoreSecret, SecretEquals) {
  EXPECT_TRUE(SecretEquals("abc", "abc"));
  EXPECT_FALSE(SecretEquals("abc", "abd"));
  EXPECT_FALSE(SecretEquals("abc", "ab"));
  EXPECT_FALSE(SecretEquals("", "a"));
  EXPECT_TRUE(SecretEquals("", ""));
  EXPECT_FALSE(SecretEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(CoreText, ControlCharacters) {
  EXPECT_FALSE(HasControlCharacter("plain text\twith a tab, caf\xc3\xa9, \xe2\x82\xac"));
  EXPECT_TRUE(HasControlCharacter("\x1b[2J"));
  EXPECT_TRUE(HasControlCharacter("bell\a"));
  EXPECT_TRUE(HasControlCharacter(std::string_view("nul\0", 4)));
  EXPECT_TRUE(HasControlCharacter("del\x7f"));
  EXPECT_TRUE(HasControlCharacter("csi \xc2\x9b"));
  EXPECT_FALSE(HasControlCharacter("nbsp \xc2\xa0"));
}
