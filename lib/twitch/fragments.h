// A chat message cut into "fragments" (twitch-events(7)): text, emotes and cheermotes. Twitch
// gives emote positions as ranges of code points, end inclusive (IRC's emotes tag, PubSub's
// sub_message.emotes); here they become byte ranges of the UTF-8 text, ranges that do not fit
// are dropped, and the fragments array is built around them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

/// A part of a message that is not plain text: bytes [begin, end) of the text.
struct MessagePart {
  size_t begin = 0;
  size_t end = 0;
  std::string id;      ///< an emote's id; empty for a cheermote
  std::string prefix;  ///< a cheermote's prefix, lower-case
  long long bits = 0;  ///< a cheermote's amount
};

/// An emote at code points [first, last] of a message, as Twitch gives it.
struct EmoteRange {
  long long first = 0;
  long long last = 0;
  std::string id;
};

/// The byte offset of each code point of |s| (UTF-8), and |s.size()| last.
std::vector<size_t> CodePointOffsets(std::string_view s);

/// The emote parts for |ranges|, in their order, of the text whose CodePointOffsets() are
/// |offsets|; a range that is reversed or past the end of the text, or has no id, is dropped
/// (Twitch has sent such ranges).
std::vector<MessagePart> EmoteParts(const std::vector<size_t>& offsets,
                                    const std::vector<EmoteRange>& ranges);

/// |parts| sorted by where they begin; a part that overlaps one before it is dropped.
std::vector<MessagePart> WithoutOverlaps(std::vector<MessagePart> parts);

/// The "fragments" array of |text| with |parts| (sorted, not overlapping) and text between
/// them; null when |parts| is empty.
JsonPtr FragmentsJson(std::string_view text, const std::vector<MessagePart>& parts);
