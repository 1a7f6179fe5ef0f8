// Templates that build routing keys and header values from an event: literal text with JSON
// paths in braces, e.g. "{channel.login}.{type}". A path that is missing (or not a scalar)
// becomes "_", so every event still gets a well-formed key.
#pragma once

#include <jansson.h>

#include <string>
#include <vector>

class KeyTemplate {
 public:
  /// Parses |text|. Fails with |err| on an unbalanced brace or an empty path ("{}").
  bool Parse(const std::string& text, std::string* err);

  /// The template filled in from |event| (an object). Strings are copied as they are, integers,
  /// reals and booleans written as JSON writes them; anything else, or a missing path, gives "_".
  std::string Render(json_t* event) const;

  /// True when the template has no path: Render() always returns the same text.
  bool literal() const;

 private:
  struct Part {
    bool is_path;
    std::string text;  // literal text, or a dotted path
  };
  std::vector<Part> parts_;
};
