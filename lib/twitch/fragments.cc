// Emote ranges to byte ranges, and the fragments array (see fragments.h).
#include "twitch/fragments.h"

#include <algorithm>

#include "core/event.h"

std::vector<size_t> CodePointOffsets(std::string_view s) {
  std::vector<size_t> at;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) at.push_back(i);
  }
  at.push_back(s.size());
  return at;
}

std::vector<MessagePart> EmoteParts(const std::vector<size_t>& offsets,
                                    const std::vector<EmoteRange>& ranges) {
  const long long count = static_cast<long long>(offsets.size()) - 1;
  std::vector<MessagePart> parts;
  for (const EmoteRange& r : ranges) {
    if (r.first < 0 || r.last < r.first || r.last >= count || r.id.empty()) continue;
    MessagePart p;
    p.begin = offsets[static_cast<size_t>(r.first)];
    p.end = offsets[static_cast<size_t>(r.last) + 1];
    p.id = r.id;
    parts.push_back(std::move(p));
  }
  return parts;
}

std::vector<MessagePart> WithoutOverlaps(std::vector<MessagePart> parts) {
  std::stable_sort(parts.begin(), parts.end(),
                   [](const MessagePart& a, const MessagePart& b) { return a.begin < b.begin; });
  std::vector<MessagePart> kept;
  for (MessagePart& p : parts) {
    if (kept.empty() || p.begin >= kept.back().end) kept.push_back(std::move(p));
  }
  return kept;
}

namespace {

void AppendPart(json_t* parts, const char* type, std::string_view text) {
  json_t* part = json_object();
  SetString(part, "type", type);
  SetString(part, "text", text);
  json_array_append_new(parts, part);
}

}  // namespace

JsonPtr FragmentsJson(std::string_view text, const std::vector<MessagePart>& parts) {
  if (parts.empty()) return nullptr;
  JsonPtr out = JsonOwn(json_array());
  size_t pos = 0;
  for (const MessagePart& p : parts) {
    if (p.begin > pos) AppendPart(out.get(), "text", text.substr(pos, p.begin - pos));
    std::string_view t = text.substr(p.begin, p.end - p.begin);
    AppendPart(out.get(), p.id.empty() ? "cheermote" : "emote", t);
    json_t* part = json_array_get(out.get(), json_array_size(out.get()) - 1);
    if (p.id.empty()) {
      SetString(part, "prefix", p.prefix);
      SetInt(part, "bits", p.bits);
    } else {
      SetString(part, "id", p.id);
    }
    pos = p.end;
  }
  if (pos < text.size()) AppendPart(out.get(), "text", text.substr(pos));
  return out;
}
