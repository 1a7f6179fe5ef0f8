// Static files for the HTTP side of a server (ws-serve's overlay page): maps a request path to a
// file under a root directory, never to anything outside it, and names the file's content type.
#pragma once

#include <string>
#include <string_view>

enum class FileLookup {
  kFound,      ///< |file| is a regular file inside the root
  kNotFound,   ///< nothing there (or a hidden file, or not a regular file)
  kForbidden,  ///< the path tries to leave the root (".." or a symlink pointing outside)
};

/// Resolves the request path |url_path| (already percent-decoded, starting with '/') under
/// |root|, which must be a real path (no symlinks, as realpath(3) gives). A directory means its
/// index.html. Segments ".." are forbidden whatever they would resolve to; segments starting with
/// '.' are not found; the resolved file must lie inside |root| after following symlinks.
FileLookup ResolveStaticFile(const std::string& root, std::string_view url_path, std::string* file);

/// The Content-Type for |path| from its extension; "application/octet-stream" when unknown.
const char* ContentTypeFor(std::string_view path);

/// realpath(3) of |dir| when it is a directory; false otherwise.
bool RealDirectory(const std::string& dir, std::string* real);
