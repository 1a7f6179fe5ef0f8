// ws-serve's --retain-file (see retain_file.h).
#include "ws/retain_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "core/atomic_file.h"

namespace {

// The file is rewritten when it holds this many times the retained lines (and at least
// kMinLinesBeforeRewrite), so its size stays within a small multiple of the ring's.
constexpr size_t kCompactionFactor = 4;
constexpr size_t kMinLinesBeforeRewrite = 64;

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

}  // namespace

RetainFile::~RetainFile() {
  if (file_) fclose(file_);
}

bool RetainFile::Open(const std::string& path, size_t max_lines, std::vector<std::string>* lines,
                      std::string* err) {
  path_ = path;
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    *err = Errno(path);
    return false;
  }
  file_ = fdopen(fd, "a+");
  if (!file_) {
    *err = Errno(path);
    close(fd);
    return false;
  }
  rewind(file_);
  std::deque<std::string> last;
  char* buf = nullptr;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&buf, &cap, file_)) > 0) {
    std::string line(buf, static_cast<size_t>(n));
    if (line.back() != '\n') break;  // cut short by a crash: not a line
    line.pop_back();
    lines_++;
    if (line.empty()) continue;
    last.push_back(std::move(line));
    if (last.size() > max_lines) last.pop_front();
  }
  free(buf);
  if (ferror(file_)) {
    *err = Errno(path);
    return false;
  }
  lines->assign(last.begin(), last.end());
  return true;
}

void RetainFile::Append(std::string_view line) {
  if (!file_) return;
  fwrite(line.data(), 1, line.size(), file_);
  fputc('\n', file_);
  // Into the kernel at once: a ws-serve that is killed loses no line of the file (only a machine
  // that stops before the next Sync() can).
  fflush(file_);
  lines_++;
  dirty_ = true;
}

bool RetainFile::WantsCompaction(size_t retained) const {
  size_t bound = retained * kCompactionFactor;
  return lines_ > (bound < kMinLinesBeforeRewrite ? kMinLinesBeforeRewrite : bound);
}

bool RetainFile::Rewrite(
    const std::function<void(const std::function<void(std::string_view)>&)>& each,
    std::string* err) {
  std::string text;
  size_t count = 0;
  each([&](std::string_view line) {
    text.append(line);
    text.push_back('\n');
    count++;
  });
  if (!WriteFileAtomically(path_, text, 0600, err)) return false;
  FILE* reopened = fopen(path_.c_str(), "ae");
  if (!reopened) {
    *err = Errno(path_);
    return false;
  }
  fclose(file_);
  file_ = reopened;
  lines_ = count;
  dirty_ = false;
  return true;
}

bool RetainFile::Sync(std::string* err) {
  if (!file_ || !dirty_) return true;
  dirty_ = false;
  if (fflush(file_) != 0 || fsync(fileno(file_)) != 0) {
    *err = Errno(path_);
    return false;
  }
  return true;
}
