// libFuzzer target for the token store's file format: the bytes are a store file's text, read as
// ReadTokenFile() reads one (TokenFromJson). Invariants: no crash or sanitizer finding; a file
// that is accepted has an access token and a kind of "user" or "app", and what the store would
// write for it (TokenToJson) reads back to the same token, expiry to the second included.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "twitch/token_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  std::string text(reinterpret_cast<const char*>(data), size);
  StoredToken t;
  std::string err;
  if (!TokenFromJson(text, &t, &err)) {
    if (err.empty()) abort();  // a refusal says why
    return 0;
  }
  if (t.access_token.empty() || (t.kind != "user" && t.kind != "app")) abort();
  StoredToken back;
  if (!TokenFromJson(TokenToJson(t), &back, &err)) abort();
  if (back.kind != t.kind || back.login != t.login || back.user_id != t.user_id ||
      back.client_id != t.client_id || back.access_token != t.access_token ||
      back.refresh_token != t.refresh_token || back.scopes != t.scopes) {
    abort();
  }
  if (back.expires_at_ms / 1000 != t.expires_at_ms / 1000) abort();
  return 0;
}
