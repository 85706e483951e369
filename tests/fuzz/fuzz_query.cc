// Fuzzes the query strings of requests the proxy reads rather than passes on: parse_target /
// url_decode / query_pairs (docker/api_target.cc), the `filters` JSON (docker/filters.cc:
// parse_filters, take_order_filters, with_filter), `docker ps` answered from memory
// (docker/ps_query.cc: parse_ps_query, filter_match's regular expressions) and
// unix_seconds. A client writes every byte of these.
// The input is a request target (path and query). Checks: no crash/UB; url_decode undoes
// url_encode; filters written by filters_json read back the same; take_order_filters leaves
// no since/before behind.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "docker/api_target.h"
#include "docker/filters.h"
#include "docker/ps_query.h"

namespace docker = flocker::docker;

namespace {
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

docker::Filters without_empty(docker::Filters f) {
  std::erase_if(f, [](const auto& kv) { return kv.second.empty(); });
  return f;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const docker::ApiTarget t = docker::parse_target(target);
  const std::string& query = t.query;

  for (const auto& [k, v] : docker::query_pairs(query)) {
    if (docker::url_decode(docker::url_encode(k)) != k) fail("url_encode/url_decode");
    (void)docker::with_query_param(query, k, std::nullopt);
    (void)docker::with_query_param(query, k, v);
    (void)docker::unix_seconds(v);
  }
  (void)docker::query_true(query, "all");

  if (auto f = docker::filters_of(query)) {
    const std::string json = docker::filters_json(*f);
    auto back = docker::parse_filters(json);
    if (!back || *back != without_empty(*f)) fail("filters_json does not read back");
    (void)docker::with_filter(query, "label", "com.docker.flocker.host=h1");
  }
  const docker::OrderFilters order = docker::take_order_filters(query);
  if (order.since || order.before) {
    auto rest = docker::filters_of(order.query_without);
    if (!rest || rest->count("since") || rest->count("before")) fail("since/before left behind");
  }

  if (auto q = docker::parse_ps_query(query)) {
    (void)q->has("name");
    // filter_match compiles each value as a regular expression (std::regex).
    for (const auto& [key, values] : q->filters) {
      (void)docker::filter_match(q->filters, key, "/flocker-test_container.1");
    }
  }
  return 0;
}
