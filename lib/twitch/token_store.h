// The token store: one JSON file per Twitch login (and one per app) under
// $XDG_CONFIG_HOME/twitch-servitor/ (~/.config/twitch-servitor/), or a file the user names.
// Files are mode 0600 in a 0700 directory, written atomically (a temporary file in the same
// directory, fsync, rename, fsync of the directory), and refused when others may read them. A
// lock file beside each token file serialises refreshes between processes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

/// What the store keeps of one token. Secrets: access_token and refresh_token.
struct StoredToken {
  std::string kind = "user";  ///< "user" (device code flow) or "app" (client credentials)
  std::string login;          ///< the user's login; empty for an app token
  std::string user_id;
  std::string client_id;
  std::string access_token;
  std::string refresh_token;  ///< empty for an app token
  std::vector<std::string> scopes;
  int64_t expires_at_ms = 0;  ///< wall-clock expiry (ms since the epoch); 0: never expires
};

/// $XDG_CONFIG_HOME/twitch-servitor, else $HOME/.config/twitch-servitor; "" when neither is set.
std::string TokenStoreDir();

/// A Twitch login: 1 to 25 of [a-z0-9_] (so that it is safe as a file name).
bool ValidLogin(const std::string& login);

/// A client id as Twitch issues them: 1 to 64 of [a-zA-Z0-9].
bool ValidClientId(const std::string& id);

/// |dir|/<login>.json.
std::string TokenFileForLogin(const std::string& dir, const std::string& login);

/// |dir|/app-<client_id>.json.
std::string TokenFileForApp(const std::string& dir, const std::string& client_id);

/// Creates |dir| (and its parents) mode 0700 when missing; refuses a |dir| that group or others
/// may enter or read, with the chmod that fixes it in |err|.
bool EnsurePrivateDir(const std::string& dir, std::string* err);

/// Reads |path|. False with |err| when it cannot be read, is not a token file, or group or
/// others have any access to it (|err| says the chmod that fixes it).
bool ReadTokenFile(const std::string& path, StoredToken* token, std::string* err);

/// Writes |token| to |path| atomically, mode 0600: a reader sees the old file or the new one,
/// never a part. The directory must exist. False with |err| on failure (|path| unchanged).
bool WriteTokenFile(const std::string& path, const StoredToken& token, std::string* err);

/// Checks that WriteTokenFile(|path|) can succeed now: a file is created beside |path|, room for
/// a token file allocated in it, and the file removed. Called before asking Twitch for a token
/// that replaces the stored one: a refresh rotates the refresh token, so a new one that cannot
/// be stored would leave only a spent one behind. False with |err| (a read-only or full file
/// system, a directory without write permission).
bool CheckTokenFileWritable(const std::string& path, std::string* err);

/// The token files in |dir|, sorted (lock and temporary files left out). A missing |dir| is
/// an empty store.
bool ListTokenFiles(const std::string& dir, std::vector<std::string>* paths, std::string* err);

/// The token as the store writes it (secrets included: for the file only).
std::string TokenToJson(const StoredToken& token);

/// Parses TokenToJson()'s output. False with |err| when a required key is missing.
bool TokenFromJson(const std::string& text, StoredToken* token, std::string* err);

/// An exclusive lock on |path|'s lock file (<path>.lock), held while the object lives: one
/// process at a time refreshes a token; the others wait and then read what it wrote.
class TokenFileLock {
 public:
  TokenFileLock() = default;
  ~TokenFileLock();
  TokenFileLock(const TokenFileLock&) = delete;
  TokenFileLock& operator=(const TokenFileLock&) = delete;

  /// Waits for the lock. False with |err| when the lock file cannot be opened.
  bool Lock(const std::string& path, std::string* err);

  /// Takes the lock if it is free now: true when taken; false with |err| empty when another
  /// process holds it, with |err| set when the lock file cannot be opened.
  bool TryLock(const std::string& path, std::string* err);

  /// Releases the lock (the destructor does too).
  void Unlock();

 private:
  bool Take(const std::string& path, int how, std::string* err);
  int fd_ = -1;
};
