// The control channel's rules (ws/control.h): joining, the checks, the rate limit, the outbox.
#include <gtest/gtest.h>

#include <string>

#include "ws/control.h"

namespace {

ControlPeer Desk() {
  ControlPeer p;
  JoinControl(&p, "tok", false, "tok");
  return p;
}

ControlVerdict Check(ControlPeer* p, const std::string& text, int64_t now = 1000) {
  return CheckControl(p, text, now);
}

TEST(WsControl, JoinSaysWhetherCommandsAreAllowed) {
  ControlPeer p;
  EXPECT_EQ(JoinControl(&p, nullptr, false, "tok"), "");
  EXPECT_FALSE(p.joined);
  EXPECT_EQ(JoinControl(&p, "tok", false, "tok"), R"({"v":1,"control":"hello","allowed":true})");
  EXPECT_TRUE(p.joined && p.may_command);
  EXPECT_EQ(
      JoinControl(&p, "tik", false, "tok"),
      R"({"v":1,"control":"hello","allowed":false,"reason":"read-only: wrong control token"})");
  EXPECT_FALSE(p.may_command);
  JoinControl(&p, "", false, "");
  EXPECT_FALSE(p.may_command) << "no control token configured: nobody may command";
  JoinControl(&p, nullptr, true, "tok");
  EXPECT_TRUE(p.joined);
  EXPECT_FALSE(p.may_command);
}

TEST(WsControl, ValidCommandsAreRelayedReserialised) {
  ControlPeer p = Desk();
  ControlVerdict v = Check(&p, R"( {"v":1, "control":"skip", "overlay":"main"} )");
  ASSERT_TRUE(v.ok) << v.reason;
  EXPECT_EQ(v.name, "skip");
  EXPECT_EQ(v.relay, R"({"v":1,"control":"skip","overlay":"main"})");
  for (
      const char* ok : {
          R"({"v":1,"control":"pause"})",
          R"({"v":1,"control":"resume","from":"desk 1"})",
          R"({"v":1,"control":"mute","muted":false})",
          R"({"v":1,"control":"replay","id":"e1"})",
          R"({"v":1,"control":"replay","id":"e1","event":{"v":1,"type":"cheer","id":"e1","bits":5}})",
          R"({"v":1,"control":"test","event":{"v":1,"type":"raid","id":"t1","viewers":3}})",
      }) {
    EXPECT_TRUE(Check(&p, ok).ok) << ok << ": " << Check(&p, ok).reason;
  }
}

TEST(WsControl, CommandsNeedTheControlToken) {
  ControlPeer p;
  JoinControl(&p, nullptr, true, "tok");
  ControlVerdict v = Check(&p, R"({"v":1,"control":"replay","id":"e1"})");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.answer,
            R"x({"v":1,"control":"refused","refused":"replay","reason":"read-only: replay )x"
            R"x(needs the control token (?control=TOKEN)"})x");
  EXPECT_TRUE(Check(&p, R"({"v":1,"control":"status","overlay":"o1","queue":2,"paused":true,)"
                        R"("muted":false,"shown":4,"current":null,"name":"main"})")
                  .ok);
}

TEST(WsControl, BadMessagesAreRefusedWithAReason) {
  ControlPeer p = Desk();
  const struct {
    const char* text;
    const char* reason;
  } cases[] = {
      {"not json", "not JSON"},
      {R"(["control"])", "not a control message"},
      {R"({"v":1,"control":5})", "not a control message"},
      {R"({"control":"skip"})", "no \"v\": 1"},
      {R"({"v":2,"control":"skip"})", "no \"v\": 1"},
      {R"({"v":1,"control":"skip","type":"follow"})", "has a \"type\""},
      {R"({"v":1,"control":"hello"})", "is sent by ws-serve"},
      {R"({"v":1,"control":"catchup"})", "is sent by ws-serve"},
      {R"({"v":1,"control":"nope"})", "unknown control message \"nope\""},
      {R"({"v":1,"control":"skip","x":1})", "unknown key \"x\" in skip"},
      {R"({"v":1,"control":"skip","overlay":""})", "\"overlay\" is not a string"},
      {R"({"v":1,"control":"skip","overlay":{}})", "\"overlay\" is not a string"},
      {R"({"v":1,"control":"mute","muted":"yes"})", "mute without"},
      {R"({"v":1,"control":"replay"})", "replay without a string \"id\""},
      {R"({"v":1,"control":"replay","id":"a","event":[]})", "\"event\" is not an object"},
      {R"({"v":1,"control":"replay","id":"a","event":{"id":"a"}})", "no string \"type\""},
      {R"({"v":1,"control":"replay","id":"a","event":{"type":"x","id":"b"}})", "not the event"},
      {R"({"v":1,"control":"test","event":{"type":"x","id":"b","control":"skip"}})",
       "is a control message"},
      {R"({"v":1,"control":"test"})", "test without an \"event\""},
      {R"({"v":1,"control":"test","event":{"type":"notice","id":"b"}})", "no test for type"},
      {R"({"v":1,"control":"status"})", "status without \"overlay\""},
      {R"({"v":1,"control":"status","overlay":"o","queue":-1})", "\"queue\" is not a count"},
      {R"({"v":1,"control":"status","overlay":"o","paused":1})", "\"paused\" is not true"},
      {R"({"v":1,"control":"status","overlay":"o","current":3})", "\"current\" is neither"},
      {R"({"v":1,"control":"skip","v":1})", "duplicate object key"},
  };
  for (const auto& c : cases) {
    ControlVerdict v = Check(&p, c.text);
    EXPECT_FALSE(v.ok) << c.text;
    EXPECT_NE(v.reason.find(c.reason), std::string::npos) << c.text << ": " << v.reason;
    EXPECT_TRUE(v.relay.empty());
    EXPECT_NE(v.answer.find(R"("control":"refused")"), std::string::npos);
  }
}

TEST(WsControl, TooLargeIsRefused) {
  ControlPeer p = Desk();
  std::string big =
      R"({"v":1,"control":"skip","from":")" + std::string(kMaxControlBytes, 'x') + R"("})";
  ControlVerdict v = Check(&p, big);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("too large"), std::string::npos) << v.reason;
}

TEST(WsControl, RateLimitBurstThenRefill) {
  ControlPeer p = Desk();
  const std::string skip = R"({"v":1,"control":"skip"})";
  for (int i = 0; i < 30; i++) ASSERT_TRUE(Check(&p, skip, 1000).ok) << i;
  ControlVerdict v = Check(&p, skip, 1000);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("too many"), std::string::npos);
  EXPECT_FALSE(Check(&p, skip, 1050).ok) << "half a token refilled";
  EXPECT_TRUE(Check(&p, skip, 1200).ok) << "two tokens by 150 ms later";
  EXPECT_TRUE(Check(&p, skip, 1200).ok);
  EXPECT_FALSE(Check(&p, skip, 1200).ok);
  EXPECT_FALSE(Check(&p, skip, 1100).ok) << "time going back refills nothing";
}

TEST(WsControl, LooksLikeControlOnlyForObjectsWithControl) {
  EXPECT_TRUE(LooksLikeControl(R"({"v":1,"control":"skip"})"));
  EXPECT_TRUE(LooksLikeControl(R"(  {"control":null})"));
  EXPECT_FALSE(LooksLikeControl(R"({"v":1,"type":"chat","message":"\"control\""})"));
  EXPECT_FALSE(LooksLikeControl(R"({"v":1,"type":"follow"})"));
  EXPECT_FALSE(LooksLikeControl(R"(["control"])"));
  EXPECT_FALSE(LooksLikeControl("plain text \"control\""));
}

TEST(WsControl, OutboxIsBounded) {
  ControlPeer p;
  for (size_t i = 0; i < kMaxControlOutbox + 5; i++) p.Queue(std::to_string(i));
  EXPECT_EQ(p.outbox.size(), kMaxControlOutbox);
  EXPECT_EQ(p.dropped, 5u);
  EXPECT_EQ(p.outbox.front(), "5");
}

}  // namespace
