// Comparing secrets (tokens, passwords) without telling an attacker, through the time it takes,
// how much of a guess was right or how long the secret is.
#pragma once

#include <string_view>

/// True when |a| and |b| are the same. Compares their SHA-256 digests with CRYPTO_memcmp, so the
/// time taken depends neither on where they differ nor on either one's length.
bool SecretEquals(std::string_view a, std::string_view b);
