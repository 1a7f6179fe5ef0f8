// Files replaced as a whole: a reader (or a process started after a crash) sees the old content
// or the new, never a part. For the token store and the listeners' --state-file.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

/// Replaces |path| with |text|: written to a temporary file beside it (mode |mode|), synced,
/// renamed over |path|, and the directory synced. False with |err| ("PATH: cannot write: why")
/// when any step fails; |path| is then unchanged and the temporary file gone.
bool WriteFileAtomically(const std::string& path, std::string_view text, mode_t mode,
                         std::string* err);
