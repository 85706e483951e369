#include "docker/bounded_regex.h"

#include <cctype>

namespace flocker::docker {

std::string regex_too_complex(std::string_view pattern) {
  if (pattern.size() > kMaxRegexBytes) return "it is longer than " + std::to_string(kMaxRegexBytes) + " bytes";
  int depth = 0;
  long repetitions = 1;
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;  // an escaped character is itself
      continue;
    }
    if (in_class) {
      in_class = c != ']';
      continue;
    }
    if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      if (++depth > kMaxRegexDepth) return "its groups nest deeper than " + std::to_string(kMaxRegexDepth);
    } else if (c == ')') {
      depth = depth > 0 ? depth - 1 : 0;
    } else if (c == '{') {
      // {n}, {n,} or {n,m}: the largest number bounds the states it expands into.
      long bound = 0;
      for (std::size_t j = i + 1; j < pattern.size() && pattern[j] != '}'; ++j) {
        if (std::isdigit(static_cast<unsigned char>(pattern[j]))) {
          bound = std::min(bound * 10 + (pattern[j] - '0'), kMaxRegexRepetitions + 1);
        } else if (pattern[j] == ',') {
          bound = 0;
        }
      }
      repetitions *= std::max(bound, 1L);
      if (repetitions > kMaxRegexRepetitions) {
        return "its counted repetitions expand past " + std::to_string(kMaxRegexRepetitions);
      }
    }
  }
  return "";
}

}  // namespace flocker::docker
