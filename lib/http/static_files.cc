// Static files under a root directory (see static_files.h).
#include "http/static_files.h"

#include <limits.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#include <cstring>

namespace {

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool RealPath(const std::string& path, std::string* real) {
  char buf[PATH_MAX];
  if (!realpath(path.c_str(), buf)) return false;
  *real = buf;
  return true;
}

}  // namespace

bool RealDirectory(const std::string& dir, std::string* real) {
  return IsDirectory(dir) && RealPath(dir, real);
}

FileLookup ResolveStaticFile(const std::string& root, std::string_view url_path,
                             std::string* file) {
  if (url_path.empty() || url_path[0] != '/') return FileLookup::kForbidden;
  if (url_path.find('\0') != std::string_view::npos) return FileLookup::kForbidden;
  if (url_path.find('\\') != std::string_view::npos) return FileLookup::kForbidden;
  std::string candidate = root;
  size_t pos = 0;
  while (pos < url_path.size()) {
    size_t slash = url_path.find('/', pos);
    if (slash == std::string_view::npos) slash = url_path.size();
    std::string_view seg = url_path.substr(pos, slash - pos);
    pos = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") return FileLookup::kForbidden;
    if (seg[0] == '.') return FileLookup::kNotFound;
    candidate += '/';
    candidate += seg;
  }
  if (IsDirectory(candidate)) candidate += "/index.html";
  std::string real;
  if (!RealPath(candidate, &real)) return FileLookup::kNotFound;
  if (real.compare(0, root.size(), root) != 0 ||
      (real.size() > root.size() && real[root.size()] != '/' && root != "/")) {
    return FileLookup::kForbidden;
  }
  if (!IsRegularFile(real)) return FileLookup::kNotFound;
  *file = real;
  return FileLookup::kFound;
}

const char* ContentTypeFor(std::string_view path) {
  static const struct {
    const char* ext;
    const char* type;
  } kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".otf", "font/otf"},
      {".mp3", "audio/mpeg"},
      {".ogg", "audio/ogg"},
      {".wav", "audio/wav"},
      {".mp4", "video/mp4"},
      {".webm", "video/webm"},
  };
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string_view ext = path.substr(dot);
  for (const auto& t : kTypes) {
    if (ext.size() == strlen(t.ext) && strncasecmp(ext.data(), t.ext, ext.size()) == 0) {
      return t.type;
    }
  }
  return "application/octet-stream";
}
