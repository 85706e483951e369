// Regular expressions written by clients (swarm's constraint:k==/re/, docker ps --filter
// name=re) are compiled with std::regex, which compiles and matches by recursion, once per
// nesting level, and expands counted repetitions into states. Past these bounds an
// expression is refused rather than allowed to take the proxy's stack or memory (the fuzzers
// found a 100 KB create body that did).
#pragma once

#include <string>
#include <string_view>

namespace flocker::docker {

constexpr std::size_t kMaxRegexBytes = 1024;
constexpr int kMaxRegexDepth = 32;             // nested groups
constexpr long kMaxRegexRepetitions = 10'000;  // the product of every {n,m}'s bound

// Why `pattern` must not be compiled; "" when it may.
std::string regex_too_complex(std::string_view pattern);

}  // namespace flocker::docker
