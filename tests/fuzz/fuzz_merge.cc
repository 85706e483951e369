// Fuzzes the merges of several engines' answers into one (docker/merge.cc, system_merge.cc,
// objects.cc, filters.cc's filter_by_created): list bodies, prune reports, system df, info
// and version, as engines send them. An engine is trusted less than the proxy (a flock may
// join engines of any version, and a compromised one), and one bad body must not take the
// proxy down for every user.
// The input is up to 3 host bodies separated by NUL bytes (JSON has none), the first byte
// of each also read as a limit. Checks: no crash/UB; a merge either throws MergeError or
// answers JSON.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "docker/filters.h"
#include "docker/merge.h"
#include "docker/objects.h"
#include "docker/system_merge.h"

namespace docker = flocker::docker;

namespace {

void expect_json(const std::string& out, const char* what) {
  docker::dom::parser parser;
  docker::dom::element root;
  if (parser.parse(out).get(root)) {
    std::fprintf(stderr, "%s answered what is not JSON: %s\n", what, out.c_str());
    std::abort();
  }
}

template <class F>
void merge(const char* what, F&& f) {
  std::string out;
  try {
    out = f();
  } catch (const docker::MergeError&) {
    return;
  }
  expect_json(out, what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<docker::HostBody> replies;
  while (replies.size() < 3) {
    const auto nul = in.find('\0');
    replies.push_back({"host-" + std::to_string(replies.size() + 1), std::string(in.substr(0, nul))});
    if (nul == std::string_view::npos) break;
    in.remove_prefix(nul + 1);
  }
  const int64_t limit = replies[0].body.empty() ? -1 : static_cast<int8_t>(replies[0].body[0]);

  merge("merge_container_lists", [&] { return docker::merge_container_lists(replies, limit); });
  merge("merge_image_lists", [&] { return docker::merge_image_lists(replies); });
  merge("merge_network_lists", [&] { return docker::merge_network_lists(replies); });
  merge("merge_volume_lists", [&] { return docker::merge_volume_lists(replies); });
  merge("merge_system_df", [&] { return docker::merge_system_df(replies); });
  merge("merge_prune_reports", [&] { return docker::merge_prune_reports(replies); });

  for (const auto& r : replies) {
    (void)docker::parse_container_list(r.body);
    (void)docker::parse_image_list(r.body);
    (void)docker::parse_volume_list(r.body);
    (void)docker::parse_network_list(r.body);
    (void)docker::parse_volume(r.body);
    (void)docker::parse_network(r.body);
    (void)docker::swarm_state(r.body);
    if (auto out = docker::filter_by_created(r.body, 1000 * 1000000000LL, 2000000000 * 1000000000LL)) expect_json(*out, "filter_by_created");
  }

  std::vector<docker::HostSummary> hosts;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    docker::HostSummary h;
    h.name = replies[i].host;
    h.address = "tcp://198.18.0." + std::to_string(i + 1) + ":2375";
    h.healthy = i != 1;
    h.info_json = replies[i].body;
    h.version_json = replies[(i + 1) % replies.size()].body;
    hosts.push_back(std::move(h));
  }
  const docker::FlockIdentity flock{"flock", "ID", "0.1.0", "unix:///decider.sock"};
  expect_json(docker::merge_info(hosts, flock, "1.41"), "merge_info");
  expect_json(docker::merge_version(hosts, flock), "merge_version");
  const std::string v = docker::flock_api_version(hosts, "1.41");
  (void)docker::compare_api_versions(v, replies.back().body);
  return 0;
}
