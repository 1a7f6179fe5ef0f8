// The token store (see token_store.h): paths, modes, atomic replacement, the refresh lock.
#include "twitch/token_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/atomic_file.h"
#include "core/json.h"
#include "core/time.h"

namespace {

std::string Octal(mode_t m) {
  char buf[8];
  snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::string TokenStoreDir() {
  const char* xdg = getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/twitch-servitor";
  const char* home = getenv("HOME");
  if (home && *home) return std::string(home) + "/.config/twitch-servitor";
  return "";
}

bool ValidLogin(const std::string& login) {
  if (login.empty() || login.size() > 25) return false;
  return std::all_of(login.begin(), login.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool ValidClientId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

std::string TokenFileForLogin(const std::string& dir, const std::string& login) {
  return dir + "/" + login + ".json";
}

std::string TokenFileForApp(const std::string& dir, const std::string& client_id) {
  return dir + "/app-" + client_id + ".json";
}

bool EnsurePrivateDir(const std::string& dir, std::string* err) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      *err = dir + ": " + strerror(errno);
      return false;
    }
    std::string parent = Parent(dir);
    if (parent != dir && stat(parent.c_str(), &st) != 0 && !EnsurePrivateDir(parent, err)) {
      return false;
    }
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      *err = dir + ": cannot create: " + strerror(errno);
      return false;
    }
    return true;
  }
  if (!S_ISDIR(st.st_mode)) {
    *err = dir + ": not a directory";
    return false;
  }
  if (st.st_mode & 077) {
    *err = dir + ": open to others (mode " + Octal(st.st_mode) + "); fix it with: chmod 700 " + dir;
    return false;
  }
  return true;
}

std::string TokenToJson(const StoredToken& t) {
  JsonPtr j = JsonOwn(json_object());
  json_object_set_new(j.get(), "kind", json_string(t.kind.c_str()));
  if (!t.login.empty()) json_object_set_new(j.get(), "login", json_string(t.login.c_str()));
  if (!t.user_id.empty()) json_object_set_new(j.get(), "user_id", json_string(t.user_id.c_str()));
  json_object_set_new(j.get(), "client_id", json_string(t.client_id.c_str()));
  json_t* scopes = json_array();
  for (const auto& s : t.scopes) json_array_append_new(scopes, json_string(s.c_str()));
  json_object_set_new(j.get(), "scopes", scopes);
  json_object_set_new(
      j.get(), "expires_at",
      t.expires_at_ms ? json_string(FormatRfc3339Millis(t.expires_at_ms).c_str()) : json_null());
  json_object_set_new(j.get(), "access_token", json_string(t.access_token.c_str()));
  if (!t.refresh_token.empty()) {
    json_object_set_new(j.get(), "refresh_token", json_string(t.refresh_token.c_str()));
  }
  return JsonDump(j.get()) + "\n";
}

bool TokenFromJson(const std::string& text, StoredToken* t, std::string* err) {
  std::string perr;
  JsonPtr j = JsonParse(text, &perr);
  if (!j || !json_is_object(j.get())) {
    *err = j ? "not a JSON object" : "not JSON: " + perr;
    return false;
  }
  StoredToken out;
  out.kind = JsonString(j.get(), "kind", "user");
  out.login = JsonString(j.get(), "login");
  out.user_id = JsonString(j.get(), "user_id");
  out.client_id = JsonString(j.get(), "client_id");
  out.access_token = JsonString(j.get(), "access_token");
  out.refresh_token = JsonString(j.get(), "refresh_token");
  json_t* scopes = json_object_get(j.get(), "scopes");
  size_t i;
  json_t* s;
  json_array_foreach(scopes, i, s) {
    if (json_is_string(s)) out.scopes.emplace_back(json_string_value(s));
  }
  // A NUL would be cut where the token is used (a header, a file written back): found by
  // token_store_fuzz.
  for (const std::string* f : {&out.kind, &out.login, &out.user_id, &out.client_id,
                               &out.access_token, &out.refresh_token}) {
    if (f->find('\0') != std::string::npos) {
      *err = "a NUL character in a string";
      return false;
    }
  }
  std::string exp = JsonString(j.get(), "expires_at");
  // Years 0000 to 9999 only, which is what the store can write back (9999-12-31T23:59:60Z
  // would be the year 10000: found by token_store_fuzz).
  constexpr int64_t kYear10000Ms = 253402300800000;
  if (!exp.empty() &&
      (!ParseRfc3339(exp, &out.expires_at_ms) || out.expires_at_ms >= kYear10000Ms)) {
    *err = "expires_at: not an RFC 3339 time";
    return false;
  }
  if (out.access_token.empty()) {
    *err = "no access_token";
    return false;
  }
  if (out.kind != "user" && out.kind != "app") {
    *err = "kind: expected \"user\" or \"app\"";
    return false;
  }
  *t = std::move(out);
  return true;
}

bool ReadTokenFile(const std::string& path, StoredToken* token, std::string* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = path + ": " + strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    *err = path + ": not a regular file";
    return false;
  }
  if (st.st_mode & 077) {
    close(fd);
    *err = path + ": readable by others (mode " + Octal(st.st_mode) + "); fix it with: chmod 600 " +
           path + " (and revoke the token if others read it)";
    return false;
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  std::string why;
  if (!TokenFromJson(text, token, &why)) {
    *err = path + ": not a token file: " + why;
    return false;
  }
  return true;
}

bool WriteTokenFile(const std::string& path, const StoredToken& token, std::string* err) {
  return WriteFileAtomically(path, TokenToJson(token), 0600, err);
}

bool CheckTokenFileWritable(const std::string& path, std::string* err) {
  std::string dir = Parent(path);
  std::string base = path.substr(path.find_last_of('/') + 1);
  std::string tmp = dir + "/." + base + ".XXXXXX";
  int fd = mkostemp(&tmp[0], O_CLOEXEC);
  if (fd < 0) {
    *err = dir + ": cannot create a file: " + strerror(errno);
    return false;
  }
  // A token file is well under 4 KiB; posix_fallocate reports ENOSPC where a write would.
  int rc = posix_fallocate(fd, 0, 4096);
  close(fd);
  unlink(tmp.c_str());
  if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
    *err = dir + ": cannot write a file: " + strerror(rc);
    return false;
  }
  return true;
}

bool ListTokenFiles(const std::string& dir, std::vector<std::string>* paths, std::string* err) {
  paths->clear();
  DIR* d = opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return true;
    *err = dir + ": " + strerror(errno);
    return false;
  }
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.' || !EndsWith(name, ".json")) continue;
    paths->push_back(dir + "/" + name);
  }
  closedir(d);
  std::sort(paths->begin(), paths->end());
  return true;
}

TokenFileLock::~TokenFileLock() { Unlock(); }

void TokenFileLock::Unlock() {
  if (fd_ >= 0) close(fd_);  // releases the flock
  fd_ = -1;
}

bool TokenFileLock::Lock(const std::string& path, std::string* err) {
  return Take(path, LOCK_EX, err);
}

bool TokenFileLock::TryLock(const std::string& path, std::string* err) {
  err->clear();
  return Take(path, LOCK_EX | LOCK_NB, err);
}

bool TokenFileLock::Take(const std::string& path, int how, std::string* err) {
  Unlock();
  std::string lock = path + ".lock";
  fd_ = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    *err = lock + ": " + strerror(errno);
    return false;
  }
  while (flock(fd_, how) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) *err = lock + ": cannot lock: " + strerror(errno);
    Unlock();
    return false;
  }
  return true;
}
