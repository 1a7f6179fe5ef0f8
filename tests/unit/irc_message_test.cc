// The IRCv3 parser against the ircdocs msg-split cases, the tag-escape rules and 5,000 real lines.
#include "twitch/irc_message.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "core/json.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(IrcMessage, IrcdocsMsgSplit) {
  std::string err;
  JsonPtr doc = JsonParse(ReadFile(TEST_DATA_DIR "/irc/irc-parser-tests.json"), &err);
  ASSERT_TRUE(doc) << err;
  json_t* tests = json_object_get(doc.get(), "tests");
  ASSERT_EQ(json_array_size(tests), 35u);
  size_t i;
  json_t* t;
  json_array_foreach(tests, i, t) {
    std::string input = JsonString(t, "input");
    SCOPED_TRACE(input);
    json_t* atoms = json_object_get(t, "atoms");
    IrcMessage msg;
    ASSERT_TRUE(ParseIrcLine(input, &msg, &err)) << err;
    EXPECT_EQ(msg.command, JsonString(atoms, "verb"));
    json_t* source = json_object_get(atoms, "source");
    EXPECT_EQ(msg.has_source, source != nullptr);
    if (source) {
      EXPECT_EQ(msg.source, json_string_value(source));
    }
    std::vector<std::string> want_params;
    size_t j;
    json_t* p;
    json_array_foreach(json_object_get(atoms, "params"), j, p) {
      want_params.push_back(json_string_value(p));
    }
    std::vector<std::string> got_params(msg.params.begin(), msg.params.end());
    EXPECT_EQ(got_params, want_params);
    std::map<std::string, std::string> want_tags, got_tags;
    const char* key;
    json_t* v;
    json_object_foreach(json_object_get(atoms, "tags"), key, v) {
      want_tags[key] = json_string_value(v);
    }
    for (const IrcTag& tag : msg.tags) got_tags[std::string(tag.key)] = msg.Tag(tag.key);
    EXPECT_EQ(got_tags, want_tags);
  }
}

TEST(IrcMessage, UnescapeIsOnePass) {
  EXPECT_EQ(UnescapeTagValue("a\\sb"), "a b");
  EXPECT_EQ(UnescapeTagValue("\\\\s"), "\\s");  // chained replace() would give "\ "
  EXPECT_EQ(UnescapeTagValue("x\\:y"), "x;y");
  EXPECT_EQ(UnescapeTagValue("\\r\\n"), "\r\n");
  EXPECT_EQ(UnescapeTagValue("\\a"), "a");
  EXPECT_EQ(UnescapeTagValue("end\\"), "end");
  EXPECT_EQ(UnescapeTagValue(""), "");
}

TEST(IrcMessage, TwitchLine) {
  std::string line =
      "@badge-info=;bits=250;display-name=Quill\\sFeather;id=3f1c;room-id=777 "
      ":quillfeather!quillfeather@quillfeather.tmi.twitch.tv PRIVMSG #maplecrate :Cheer200 hi";
  IrcMessage msg;
  std::string err;
  ASSERT_TRUE(ParseIrcLine(line, &msg, &err));
  EXPECT_EQ(msg.command, "PRIVMSG");
  EXPECT_EQ(msg.source, "quillfeather!quillfeather@quillfeather.tmi.twitch.tv");
  ASSERT_EQ(msg.params.size(), 2u);
  EXPECT_EQ(msg.params[0], "#maplecrate");
  EXPECT_EQ(msg.params[1], "Cheer200 hi");
  EXPECT_TRUE(msg.has_trailing);
  EXPECT_EQ(msg.Tag("display-name"), "Quill Feather");
  EXPECT_EQ(msg.Tag("bits"), "250");
  EXPECT_TRUE(msg.HasTag("badge-info"));
  EXPECT_EQ(msg.Tag("badge-info"), "");
  EXPECT_FALSE(msg.HasTag("custom-reward-id"));
}

TEST(IrcMessage, RejectsLinesWithoutCommand) {
  IrcMessage msg;
  std::string err;
  for (const char* line : {"", "   ", "@a=b", "@a=b ", ":source", ":source  ", "@a=b :src"}) {
    EXPECT_FALSE(ParseIrcLine(line, &msg, &err)) << "'" << line << "'";
    EXPECT_FALSE(err.empty());
  }
  EXPECT_FALSE(ParseIrcLine(std::string_view("PRIVMSG #c :a\0b", 15), &msg, &err));
  EXPECT_EQ(err, "NUL byte in line");
}

TEST(IrcMessage, ReusesStorageBetweenLines) {
  IrcMessage msg;
  std::string err;
  ASSERT_TRUE(ParseIrcLine("@a=1;b=2 :x!x@x PRIVMSG #c :one", &msg, &err));
  ASSERT_TRUE(ParseIrcLine("PING :tmi.twitch.tv", &msg, &err));
  EXPECT_TRUE(msg.tags.empty());
  EXPECT_FALSE(msg.has_source);
  EXPECT_EQ(msg.command, "PING");
  ASSERT_EQ(msg.params.size(), 1u);
  EXPECT_EQ(msg.params[0], "tmi.twitch.tv");
}

TEST(IrcMessage, AllCorpusLinesParse) {
  FILE* f = popen("gzip -dc '" TEST_DATA_DIR "/irc/irc-channel-5000.txt.gz'", "r");
  ASSERT_TRUE(f);
  std::map<std::string, int> commands;
  char* buf = nullptr;
  size_t cap = 0;
  ssize_t n;
  int lines = 0;
  IrcMessage msg;
  std::string err;
  while ((n = getline(&buf, &cap, f)) > 0) {
    std::string_view line(buf, static_cast<size_t>(n));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    ++lines;
    ASSERT_TRUE(ParseIrcLine(line, &msg, &err)) << "line " << lines << ": " << err;
    ++commands[std::string(msg.command)];
    if (msg.command == "PRIVMSG") {
      EXPECT_EQ(msg.params.size(), 2u) << "line " << lines;
      EXPECT_TRUE(msg.HasTag("id")) << "line " << lines;
    }
  }
  free(buf);
  EXPECT_EQ(pclose(f), 0);
  EXPECT_EQ(lines, 5000);
  EXPECT_EQ(commands["PRIVMSG"], 4933);
  EXPECT_EQ(commands["CLEARCHAT"], 58);
  EXPECT_EQ(commands["USERNOTICE"], 9);
}

}  // namespace
