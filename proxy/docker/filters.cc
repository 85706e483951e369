#include "docker/filters.h"

#include <algorithm>

#include <cstdio>

#include "docker/api_target.h"
#include "docker/json.h"

namespace flocker::docker {

std::optional<Filters> parse_filters(std::string_view json) {
  dom::parser parser;
  dom::element root;
  dom::object obj;
  if (parser.parse(json.data(), json.size()).get(root) || root.get_object().get(obj)) return std::nullopt;
  Filters out;
  for (auto field : obj) {
    auto& values = out[std::string(field.key)];
    dom::array arr;
    dom::object map;
    if (!field.value.get_array().get(arr)) {
      for (auto v : arr) {
        std::string_view s;
        if (!v.get_string().get(s)) values.emplace_back(s);
      }
    } else if (!field.value.get_object().get(map)) {
      for (auto v : map) values.emplace_back(v.key);
    }
  }
  return out;
}

std::string filters_json(const Filters& filters) {
  JsonWriter w;
  w.begin_object();
  for (const auto& [key, values] : filters) {
    if (values.empty()) continue;
    w.key(key).begin_object();
    for (const auto& v : values) w.key(v).boolean(true);
    w.end_object();
  }
  return w.end_object().take();
}

std::optional<Filters> filters_of(std::string_view query) {
  auto raw = query_param(query, "filters");
  if (!raw || raw->empty()) return Filters{};
  return parse_filters(*raw);
}

std::string with_filters(std::string_view query, const Filters& filters) {
  const std::string json = filters_json(filters);
  return with_query_param(query, "filters", json == "{}" ? std::nullopt : std::optional<std::string>(json));
}

OrderFilters take_order_filters(std::string_view query) {
  OrderFilters out;
  out.query_without = std::string(query);
  auto filters = filters_of(query);
  if (!filters) return out;
  for (const char* key : {"since", "before"}) {
    auto it = filters->find(key);
    if (it == filters->end() || it->second.empty()) continue;
    (std::string_view(key) == "since" ? out.since : out.before) = it->second.back();
    filters->erase(it);
  }
  if (!out.since && !out.before) return out;
  out.query_without = with_filters(query, *filters);
  return out;
}

std::string with_filter(std::string_view query, std::string_view key, std::string_view value) {
  Filters filters = filters_of(query).value_or(Filters{});
  filters[std::string(key)].emplace_back(value);
  return with_filters(query, filters);
}

int64_t unix_seconds(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS, then fractions and a zone (docker writes UTC, "Z").
  int y, mo, d, h, mi, s;
  if (t.size() < 19 || std::sscanf(std::string(t.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h,
                                   &mi, &s) != 6) {
    return 0;
  }
  // Days from the civil date (Howard Hinnant's algorithm), proleptic Gregorian.
  y -= mo <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t(era) * 146097 + int64_t(doe) - 719468;
  return days * 86400 + h * 3600 + mi * 60 + s;
}

std::optional<std::string> filter_by_created(std::string_view list, std::optional<int64_t> after_ns,
                                             std::optional<int64_t> before_ns, std::vector<std::string>* unsure) {
  dom::parser parser;
  dom::element root;
  dom::array array;
  if (parser.parse(list.data(), list.size()).get(root) || root.get_array().get(array)) return std::nullopt;
  constexpr int64_t kSecond = 1'000'000'000;
  auto second_of = [](int64_t ns) { return ns >= 0 ? ns / kSecond : (ns - kSecond + 1) / kSecond; };
  JsonWriter w;
  w.begin_array();
  for (auto c : array) {
    const int64_t created = int_field(c, "Created");
    bool boundary = false;
    if (after_ns) {
      if (created < second_of(*after_ns)) continue;
      boundary = boundary || created == second_of(*after_ns);
    }
    if (before_ns) {
      if (created > second_of(*before_ns) || (created == second_of(*before_ns) && *before_ns % kSecond == 0)) continue;
      boundary = boundary || created == second_of(*before_ns);
    }
    if (boundary && unsure) unsure->emplace_back(string_field(c, "Id"));
    w.value(c);
  }
  return w.end_array().take();
}

std::optional<std::string> without_ids(std::string_view list, const std::vector<std::string>& ids) {
  dom::parser parser;
  dom::array array;
  if (parser.parse(list.data(), list.size()).get_array().get(array)) return std::nullopt;
  JsonWriter w;
  w.begin_array();
  for (auto c : array) {
    if (std::find(ids.begin(), ids.end(), string_field(c, "Id")) == ids.end()) w.value(c);
  }
  return w.end_array().take();
}

}  // namespace flocker::docker
