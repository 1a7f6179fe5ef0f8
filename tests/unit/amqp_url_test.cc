// AMQP URL parsing and the password-free form used in logs; routing-key templates.
#include <gtest/gtest.h>

#include "amqp/key_template.h"
#include "amqp/url.h"
#include "core/json.h"

namespace {

TEST(AmqpUrl, ParsesEveryPart) {
  AmqpUrl u;
  std::string err;
  ASSERT_TRUE(ParseAmqpUrl("amqp://bob:s3cret@broker.example:5673/prod", &u, &err)) << err;
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.user, "bob");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.host, "broker.example");
  EXPECT_EQ(u.port, 5673);
  EXPECT_EQ(u.vhost, "prod");
  EXPECT_EQ(RedactedUrl(u), "amqp://bob@broker.example:5673/prod");
}

TEST(AmqpUrl, DefaultsAndTheSlashVhost) {
  AmqpUrl u;
  std::string err;
  ASSERT_TRUE(ParseAmqpUrl("amqp://guest:guest@127.0.0.1:5672", &u, &err));
  EXPECT_EQ(u.vhost, "/");
  ASSERT_TRUE(ParseAmqpUrl("amqp://h/", &u, &err));
  EXPECT_EQ(u.vhost, "/");
  EXPECT_EQ(u.port, 5672);
  ASSERT_TRUE(ParseAmqpUrl("amqp://h/%2fx", &u, &err));
  EXPECT_EQ(u.vhost, "/x");
  EXPECT_EQ(RedactedUrl(u), "amqp://guest@h:5672/%2fx");
  ASSERT_TRUE(ParseAmqpUrl("amqps://h", &u, &err));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.port, 5671);
  EXPECT_EQ(RedactedUrl(u).rfind("amqps://", 0), 0u);
}

TEST(AmqpUrl, RejectsWhatIsNotAnAmqpUrl) {
  AmqpUrl u;
  std::string err;
  EXPECT_FALSE(ParseAmqpUrl("http://h", &u, &err));
  EXPECT_FALSE(ParseAmqpUrl("amqp://a:b@:5/", &u, &err));
  EXPECT_FALSE(ParseAmqpUrl("amqp://h:99999/", &u, &err));
  EXPECT_FALSE(ParseAmqpUrl("amqp://user:pw@h:x/", &u, &err));
  EXPECT_EQ(err.find("pw"), std::string::npos);
}

std::string Render(const std::string& tmpl, const char* json) {
  KeyTemplate t;
  std::string err;
  EXPECT_TRUE(t.Parse(tmpl, &err)) << err;
  JsonPtr event = JsonParse(json, &err);
  return t.Render(event.get());
}

TEST(AmqpUrl, SeesAPasswordInTheText) {
  EXPECT_TRUE(AmqpUrlHasPassword("amqp://bob:s3cret@broker.example:5673/prod"));
  EXPECT_TRUE(AmqpUrlHasPassword("amqps://bob:p%40ss@h"));
  EXPECT_TRUE(AmqpUrlHasPassword("amqp://bob:x@[::1]:5672"));
  EXPECT_FALSE(AmqpUrlHasPassword("amqp://bob@broker.example:5673/prod"));
  EXPECT_FALSE(AmqpUrlHasPassword("amqp://bob:@h"));
  EXPECT_FALSE(AmqpUrlHasPassword("amqp://h:5672/v:x@y"));
  EXPECT_FALSE(AmqpUrlHasPassword("amqp://[::1]:5672"));
  EXPECT_FALSE(AmqpUrlHasPassword("not a url"));
}

TEST(KeyTemplate, FillsPathsAndMarksMissingOnes) {
  EXPECT_EQ(Render("{channel.login}.{type}", R"({"type":"cheer","channel":{"login":"abc"}})"),
            "abc.cheer");
  EXPECT_EQ(Render("{channel.login}.{type}", R"({"type":"raid"})"), "_.raid");
  EXPECT_EQ(Render("x.{bits}.{gifted}.{user}", R"({"bits":100,"gifted":true,"user":{}})"),
            "x.100.true._");
  EXPECT_EQ(Render("{a}", R"({"a":""})"), "_");
  EXPECT_EQ(Render("fixed", R"({})"), "fixed");
  EXPECT_EQ(Render("{type}", "[1]"), "_");
}

TEST(KeyTemplate, RejectsUnbalancedBraces) {
  KeyTemplate t;
  std::string err;
  EXPECT_FALSE(t.Parse("{type", &err));
  EXPECT_FALSE(t.Parse("type}", &err));
  EXPECT_FALSE(t.Parse("{}", &err));
  EXPECT_TRUE(t.Parse("plain", &err));
  EXPECT_TRUE(t.literal());
}

}  // namespace
