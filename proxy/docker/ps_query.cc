#include "docker/ps_query.h"

#include <charconv>
#include <regex>

#include "docker/bounded_regex.h"

#include "docker/api_target.h"

namespace flocker::docker {
namespace {

const std::set<std::string_view> kAccepted{"ancestor", "before", "exited", "id",     "isolation",
                                           "label",    "name",   "status", "health", "since",
                                           "volume",   "network", "is-task", "publish", "expose"};
const std::set<std::string_view> kStates{"paused", "restarting", "running", "dead", "created", "exited", "removing"};
const std::set<std::string_view> kHealth{"starting", "healthy", "unhealthy", "none"};

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// nat.SplitProtoPort + ParsePortRange: "80", "80/udp", "8000-8080/tcp".
bool add_ports(std::string_view value, std::set<std::pair<int64_t, std::string>>& out) {
  if (value.find(':') != std::string_view::npos || value.empty()) return false;
  std::string proto = "tcp";
  std::string_view port = value;
  if (auto slash = value.find('/'); slash != std::string_view::npos) {
    port = value.substr(0, slash);
    proto = std::string(value.substr(slash + 1));
    if (proto.empty()) return false;
  }
  std::string_view first = port, last = port;
  if (auto dash = port.find('-'); dash != std::string_view::npos) {
    first = port.substr(0, dash);
    last = port.substr(dash + 1);
  }
  auto a = to_int(first), b = to_int(last);
  if (!a || !b || *a < 0 || *b < *a || *b > 65535) return false;
  for (int64_t p = *a; p <= *b; ++p) out.emplace(p, proto);
  return true;
}

bool exact(const Filters& f, std::string_view key, std::string_view source) {
  auto it = f.find(key);
  if (it == f.end() || it->second.empty()) return true;
  return std::find(it->second.begin(), it->second.end(), source) != it->second.end();
}

// filters.Args.MatchKVList: every "k" or "k=v" holds.
bool match_labels(const Filters& f, const std::map<std::string, std::string>& labels) {
  auto it = f.find("label");
  if (it == f.end()) return true;
  for (const auto& v : it->second) {
    const auto eq = v.find('=');
    const std::string key = v.substr(0, eq);
    auto l = labels.find(key);
    if (l == labels.end()) return false;
    if (eq != std::string::npos && l->second != v.substr(eq + 1)) return false;
  }
  return true;
}

std::string_view bare(std::string_view name) { return name.starts_with('/') ? name.substr(1) : name; }

// httputils.BoolValue.
bool bool_value(const std::optional<std::string>& v) {
  if (!v) return false;
  std::string s;
  for (char ch : *v) {
    if (ch != ' ' && ch != '\t') s += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return !(s.empty() || s == "0" || s == "no" || s == "false" || s == "none");
}

}  // namespace

bool PsQuery::has(std::string_view key) const {
  auto it = filters.find(key);
  return it != filters.end() && !it->second.empty();
}

bool filter_match(const Filters& f, std::string_view key, std::string_view source) {
  auto it = f.find(key);
  if (it == f.end() || it->second.empty()) return true;
  for (const auto& v : it->second) {
    if (v == source) return true;
  }
  for (const auto& v : it->second) {
    if (!regex_too_complex(v).empty()) continue;  // (matches only itself, as a bad one)
    try {
      // Go's RE2 and ECMAScript agree on what ps filters are written with.
      if (std::regex_search(source.begin(), source.end(), std::regex(v))) return true;
    } catch (const std::regex_error&) {
      // as Go: a value that is no expression matches only itself
    }
  }
  return false;
}

std::optional<PsQuery> parse_ps_query(std::string_view query) {
  PsQuery q;
  if (bool_value(query_param(query, "size"))) return std::nullopt;
  q.all = bool_value(query_param(query, "all"));
  if (auto limit = query_param(query, "limit"); limit && !limit->empty()) {
    auto n = to_int(*limit);
    if (!n) return std::nullopt;
    q.limit = *n;
  }
  if (auto raw = query_param(query, "filters"); raw && !raw->empty()) {
    auto f = parse_filters(*raw);
    if (!f) return std::nullopt;
    q.filters = std::move(*f);
  }
  for (const auto& [key, values] : q.filters) {
    if (!kAccepted.count(key)) return std::nullopt;
  }
  for (const auto& v : q.filters["exited"]) {
    auto code = to_int(v);
    if (!code) return std::nullopt;
    q.exited.push_back(*code);
  }
  for (const auto& v : q.filters["status"]) {
    if (!kStates.count(v)) return std::nullopt;
    q.all = true;
  }
  if (q.has("is-task")) {
    if (exact(q.filters, "is-task", "true") && q.filters["is-task"].size() == 1) {
      q.is_task = true;
    } else if (exact(q.filters, "is-task", "false") && q.filters["is-task"].size() == 1) {
      q.is_task = false;
    } else {
      return std::nullopt;
    }
  }
  for (const auto& v : q.filters["health"]) {
    if (!kHealth.count(v)) return std::nullopt;
  }
  for (const auto& v : q.filters["publish"]) {
    if (!add_ports(v, q.publish)) return std::nullopt;
  }
  for (const auto& v : q.filters["expose"]) {
    if (!add_ports(v, q.expose)) return std::nullopt;
  }
  for (const char* key : {"since", "before"}) {
    auto it = q.filters.find(key);
    if (it == q.filters.end()) continue;
    if (!it->second.empty()) (std::string_view(key) == "since" ? q.since : q.before) = it->second.back();
    q.filters.erase(it);
  }
  std::erase_if(q.filters, [](const auto& kv) { return kv.second.empty(); });
  return q;
}

std::vector<const ListedContainer*> ps_select(const PsQuery& q, const std::vector<const ListedContainer*>& newest_first,
                                              const PsHostContext& ctx) {
  std::vector<const ListedContainer*> out;
  out.reserve(newest_first.size());
  if (q.filters.empty() && !ctx.before_id && !ctx.since_id && !ctx.created_after_ns && !ctx.created_before_ns) {
    for (const ListedContainer* c : newest_first) {  // (plain `docker ps [-a]`: the common case)
      if (c->state.running || q.all || q.limit > 0) out.push_back(c);
    }
    return out;
  }
  bool before_passed = !ctx.before_id;
  const bool by_id = q.has("id"), by_name = q.has("name");
  for (const ListedContainer* c : newest_first) {
    // list.go's order of checks matters where it stops or skips by position. First the
    // containers it walks at all: those an id names, else those a name (any, links too) matches.
    if (by_id && !ctx.id_matches.count(c->id)) continue;
    if (!by_id && by_name && std::none_of(c->names.begin(), c->names.end(), [&](const std::string& n) {
          return filter_match(q.filters, "name", n) || filter_match(q.filters, "name", bare(n));
        })) {
      continue;
    }
    if (!before_passed) {
      if (c->id == *ctx.before_id) before_passed = true;
      continue;
    }
    if (ctx.since_id && c->id == *ctx.since_id) break;
    if (ctx.created_after_ns && !(c->created_ns > *ctx.created_after_ns)) continue;
    if (ctx.created_before_ns && !(c->created_ns < *ctx.created_before_ns)) continue;
    if (!c->state.running && !q.all && q.limit <= 0) continue;
    if (!filter_match(q.filters, "name", c->name) && !filter_match(q.filters, "name", bare(c->name))) continue;
    if (!filter_match(q.filters, "id", c->id)) continue;
    if (q.is_task && *q.is_task) continue;  // no swarm tasks in a flock
    if (!match_labels(q.filters, c->labels)) continue;
    if (!filter_match(q.filters, "isolation", c->isolation.empty() ? "default" : c->isolation)) continue;
    if (!q.exited.empty()) {
      bool ok = false;
      for (auto code : q.exited) ok = ok || (code == c->state.exit_code && !c->state.running && c->state.started_at);
      if (!ok) continue;
    }
    if (!filter_match(q.filters, "status", c->state_word)) continue;
    if (!exact(q.filters, "health", c->health)) continue;
    if (q.has("volume")) {
      bool found = false;
      for (const auto& v : q.filters.find("volume")->second) {
        for (const auto& m : c->mounts) {
          found = found || (!m.destination.empty() && m.destination == v) || (m.name.empty() ? m.source : m.name) == v;
        }
      }
      if (!found) continue;
    }
    if (q.has("ancestor") && !ctx.ancestor_ids.count(c->image_id)) continue;
    if (q.has("network")) {
      bool found = false;
      for (const auto& v : q.filters.find("network")->second) {
        for (const auto& [name, id] : c->networks) found = found || name == v || id.starts_with(v);
      }
      if (!found) continue;
    }
    if (!q.publish.empty() || !q.expose.empty()) {
      bool found = false;
      for (const auto& p : c->ports) {
        found = found || q.publish.count({p.public_port, p.type}) || q.expose.count({p.private_port, p.type});
      }
      if (!found) continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace flocker::docker
