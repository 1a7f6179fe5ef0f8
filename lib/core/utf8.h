// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once

#include <string_view>

/// True if |s| is entirely well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

/// True if |s| holds a control character that a terminal or a log reader may act on: C0 other
/// than tab (U+0000 to U+001F), DEL (U+007F), or C1 (U+0080 to U+009F, as UTF-8).
bool HasControlCharacter(std::string_view s);
