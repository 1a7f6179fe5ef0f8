// Standard output for the fuzz targets that drive a whole command: a memory file in place of fd
// 1, read back after each input, whose every line must be an event that passes the schema.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/json.h"

namespace fuzz_stdout {

/// Puts a memory file in place of standard output; aborts when it cannot.
inline void Capture() {
  int fd = memfd_create("stdout", MFD_CLOEXEC);
  if (fd < 0 || dup2(fd, 1) < 0) abort();
  close(fd);
}

/// Aborts unless every line written since the last call is an event that passes the schema (a
/// record cut short counts as a fault); then empties the file.
inline void CheckEvents() {
  off_t n = lseek(1, 0, SEEK_CUR);
  std::string out(static_cast<size_t>(n), '\0');
  if (n > 0 && pread(1, out.data(), out.size(), 0) != n) abort();
  size_t at = 0, nl;
  while ((nl = out.find('\n', at)) != std::string::npos) {
    std::string err;
    JsonPtr ev = JsonParse(std::string_view(out).substr(at, nl - at), &err);
    if (!ev || !ValidateEvent(ev.get(), &err)) abort();
    at = nl + 1;
  }
  if (at != out.size() || ftruncate(1, 0) != 0 || lseek(1, 0, SEEK_SET) != 0) abort();
}

}  // namespace fuzz_stdout
