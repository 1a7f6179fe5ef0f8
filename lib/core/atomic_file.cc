// Whole-file replacement by a temporary file and rename(2).
#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

bool WriteFileAtomically(const std::string& path, std::string_view text, mode_t mode,
                         std::string* err) {
  std::string dir = Parent(path);
  std::string base = path.substr(path.find_last_of('/') + 1);
  std::string tmp = dir + "/." + base + ".XXXXXX";
  int fd = mkostemp(&tmp[0], O_CLOEXEC);  // mode 0600 until fchmod
  if (fd < 0) {
    *err = dir + ": cannot create a file: " + strerror(errno);
    return false;
  }
  size_t off = 0;
  bool ok = fchmod(fd, mode) == 0;
  while (ok && off < text.size()) {
    ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  int saved = errno;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    unlink(tmp.c_str());
    *err = path + ": cannot write: " + strerror(saved);
    return false;
  }
  // The rename itself reaches the disk with the directory.
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return true;
}
