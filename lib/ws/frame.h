// WebSocket framing done by hand for ws-serve's batched writes: several queued messages leave in
// one write as consecutive unmasked text frames (RFC 6455 section 5.2), instead of one system
// call per message. No extension is ever negotiated, so frames need nothing else.
#pragma once

#include <cstddef>
#include <string>

/// Appends one unmasked, final text frame carrying |len| bytes of |data| to |out|.
void AppendTextFrame(const unsigned char* data, size_t len, std::string* out);
