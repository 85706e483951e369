// `docker ps` answered from memory: a GET /containers/json query, and the engine's own
// selection (daemon/list.go: foldFilter, includeContainerInList) over one host's containers.
// A query the engine would refuse, or that memory cannot answer exactly (size=1), is not
// parsed: it goes to the engines, which word their own answer.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "docker/filters.h"
#include "docker/listed_container.h"

namespace flocker::docker {

struct PsQuery {
  bool all = false;
  int64_t limit = 0;  // <= 0: none
  Filters filters;    // as sent, since and before taken out
  std::optional<std::string> since, before;  // the container each names (the last value)
  std::vector<int64_t> exited;
  std::set<std::pair<int64_t, std::string>> publish, expose;  // port, protocol
  std::optional<bool> is_task;
  bool has(std::string_view key) const;
};

std::optional<PsQuery> parse_ps_query(std::string_view query);

// What a host's selection needs beyond each container: worked out by whoever holds the host.
struct PsHostContext {
  // Full IDs the `id` filter's values name on this host (each a unique prefix there).
  std::set<std::string, std::less<>> id_matches;
  // Image IDs an `ancestor` filter selects on this host: each image named, and its children.
  std::set<std::string, std::less<>> ancestor_ids;
  // since/before: on the host of the container named, its position in the list; elsewhere
  // a window of creation seconds (strictly after / strictly before), as the fan-out has it.
  std::optional<std::string> since_id, before_id;
  std::optional<int64_t> created_after_ns, created_before_ns;  // nanoseconds since the epoch
};

// The containers of one host the engine would list, in its order. `newest_first`: the host's
// containers, newest first. The limit is left to the merge.
std::vector<const ListedContainer*> ps_select(const PsQuery& q, const std::vector<const ListedContainer*>& newest_first,
                                              const PsHostContext& ctx);

// docker's filters.Args.Match: no values, or one equal to `source`, or one that is a regular
// expression found in it.
bool filter_match(const Filters& f, std::string_view key, std::string_view source);

}  // namespace flocker::docker
