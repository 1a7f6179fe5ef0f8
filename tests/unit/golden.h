// Reading golden files (tests/data/<dir>/<name>.<ext> and their expected output) for the mapping
// tests, the way jq's jq.test pairs a program's input with its output.
#pragma once

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

/// The lines of |path| without their line ends ("\n" or "\r\n").
inline std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

/// The names, without |ext| (".txt"), of the files of |dir| that end in it, sorted.
inline std::vector<std::string> GoldenNames(const std::string& dir, const std::string& ext) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() > ext.size() && f.compare(f.size() - ext.size(), ext.size(), ext) == 0) {
      names.push_back(f.substr(0, f.size() - ext.size()));
    }
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}
