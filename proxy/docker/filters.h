// docker's `filters` query parameter: a JSON object of keys to values, in either of docker's
// spellings ({"key": ["v"]} or {"key": {"v": true}}).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flocker::docker {

using Filters = std::map<std::string, std::vector<std::string>, std::less<>>;

// nullopt when `json` is not a filters object (the engine refuses such a query itself).
std::optional<Filters> parse_filters(std::string_view json);
// {"key":{"v":true},...}; keys without values are left out.
std::string filters_json(const Filters& filters);
// The `filters` of a query: empty when it has none; nullopt when they are not filter JSON.
std::optional<Filters> filters_of(std::string_view query);
// The query with `filters` in place of its own (none left: the parameter removed).
std::string with_filters(std::string_view query, const Filters& filters);

// `docker ps --filter since=X / before=X` name a container: what they select is a window of
// creation times, which holds across hosts. The query without them, and the containers they
// name (the last value of each, as the engine takes it).
struct OrderFilters {
  std::optional<std::string> since, before;
  std::string query_without;  // the query with both taken out
};
OrderFilters take_order_filters(std::string_view query);

// The query with `value` added to the filter `key`.
std::string with_filter(std::string_view query, std::string_view key, std::string_view value);

// "2026-11-30T04:51:19.207858657Z" (docker's Created in inspect) as Unix seconds; 0 when it
// is not such a time.
int64_t unix_seconds(std::string_view rfc3339);

// A container list (GET /containers/json) keeping only the entries created strictly after
// `after_ns` and strictly before `before_ns` (nanoseconds; nullopt: no bound). A list says
// only the second: the entries of a bound's own second are kept, and their IDs added to
// `unsure` (their exact time tells; an engine orders by it). nullopt when the body is not a
// list.
std::optional<std::string> filter_by_created(std::string_view list, std::optional<int64_t> after_ns,
                                             std::optional<int64_t> before_ns,
                                             std::vector<std::string>* unsure = nullptr);

// A container list without the entries whose Id is in `ids`.
std::optional<std::string> without_ids(std::string_view list, const std::vector<std::string>& ids);

}  // namespace flocker::docker
