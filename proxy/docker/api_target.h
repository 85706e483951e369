// A Docker API request target, taken apart: the optional /vX.YY prefix, the path, the query.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flocker::docker {

struct ApiTarget {
  std::string version;  // "1.41", or "" when the client sent no version prefix
  std::string path;     // without the version prefix, e.g. "/containers/abc/json"
  std::string query;    // raw, without '?'

  // The path with the version prefix again, plus a query (which may be changed).
  std::string rebuild(std::string_view new_query) const;
};

ApiTarget parse_target(std::string_view target);

std::string url_decode(std::string_view s);
std::string url_encode(std::string_view s);

// Query parameters (decoded). `all` keeps repeats (docker build's t=a&t=b).
std::optional<std::string> query_param(std::string_view query, std::string_view key);
std::vector<std::string> query_params(std::string_view query, std::string_view key);
// Every parameter, decoded, in order.
std::vector<std::pair<std::string, std::string>> query_pairs(std::string_view query);
// The query with `key` set to `value` (encoded), or removed when value is nullopt.
std::string with_query_param(std::string_view query, std::string_view key,
                             const std::optional<std::string>& value);

// Docker's boolean query values: "1", "true", "True" are true.
bool query_true(std::string_view query, std::string_view key);

}  // namespace flocker::docker
