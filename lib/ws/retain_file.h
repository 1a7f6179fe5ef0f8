// ws-serve's --retain-file: the lines retained for resuming clients, kept in a file so that they
// survive a restart. The file is NDJSON, the lines as they were broadcast: each written to the
// kernel as it comes (a killed process loses none), fsync'd by Sync() (ws-serve calls it once a
// second, so a machine crash loses at most that second), and rewritten with only the
// retained lines when it has grown to several times their number, so it stays bounded.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

class RetainFile {
 public:
  RetainFile() = default;
  ~RetainFile();
  RetainFile(const RetainFile&) = delete;
  RetainFile& operator=(const RetainFile&) = delete;

  /// Opens (creates, mode 0600) |path| for appending and reads the lines it holds, the last
  /// |max_lines| of them, into |lines|. False with |err| when it cannot be read or written.
  bool Open(const std::string& path, size_t max_lines, std::vector<std::string>* lines,
            std::string* err);

  /// Appends |line| (without its newline) and writes it to the kernel; Sync() makes it durable.
  void Append(std::string_view line);

  /// True when the file holds so many lines more than |retained| that it should be rewritten.
  bool WantsCompaction(size_t retained) const;

  /// Replaces the file with |each| giving the retained lines (atomically: a temporary file,
  /// fsync, rename). False with |err| on failure; the old file is then left as it was.
  bool Rewrite(const std::function<void(const std::function<void(std::string_view)>&)>& each,
               std::string* err);

  /// Flushes what was appended and fsyncs it. False with |err| on a write error.
  bool Sync(std::string* err);

  bool is_open() const { return file_ != nullptr; }

 private:
  std::string path_;
  FILE* file_ = nullptr;
  size_t lines_ = 0;  // lines in the file
  bool dirty_ = false;
};
