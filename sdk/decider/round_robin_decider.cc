#include "round_robin_decider.h"

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <flocker/sdk/placement.h>

#include <algorithm>
#include <random>

namespace flocker::decider {

using sdk::v1::OperationKind;

std::optional<Strategy> strategy_from_name(std::string_view name) {
  if (name == "round-robin") return Strategy::kRoundRobin;
  if (name == "spread") return Strategy::kSpread;
  if (name == "binpack") return Strategy::kBinpack;
  if (name == "random") return Strategy::kRandom;
  return std::nullopt;
}

RoundRobinDecider::RoundRobinDecider(std::vector<HostEntry> hosts, PullPlacement pull, Strategy strategy)
    : hosts_(std::make_shared<const std::vector<HostEntry>>(std::move(hosts))), pull_(pull), strategy_(strategy) {}

void RoundRobinDecider::set_hosts(std::vector<HostEntry> hosts) {
  auto next = std::make_shared<const std::vector<HostEntry>>(std::move(hosts));
  std::lock_guard lock(mu_);
  hosts_ = std::move(next);
}

std::shared_ptr<const std::vector<HostEntry>> RoundRobinDecider::hosts() const {
  std::lock_guard lock(mu_);
  return hosts_;
}

grpc::Status RoundRobinDecider::List(grpc::ServerContext&, const sdk::v1::ListRequest&,
                                     sdk::v1::ListResponse& resp) {
  // Held for the whole loop: `for (h : *hosts())` would drop the snapshot at once (a range
  // expression's temporaries end before the loop, until C++23), and a SIGHUP reload in
  // between frees the vector being walked.
  const auto snapshot = hosts();
  for (const auto& h : *snapshot) {
    auto* out = resp.add_hosts();
    out->set_name(h.name);
    out->set_address(h.address);
    for (const auto& [key, value] : h.labels) {
      // tls-* keys of the hosts file are the engine's TLS settings, not labels.
      if (key == "tls-ca") {
        out->mutable_tls()->set_ca_file(value);
      } else if (key == "tls-cert") {
        out->mutable_tls()->set_cert_file(value);
      } else if (key == "tls-key") {
        out->mutable_tls()->set_key_file(value);
      } else if (key == "tls-server-name") {
        out->mutable_tls()->set_server_name(value);
      } else if (key == "tls-insecure") {
        out->mutable_tls()->set_insecure_skip_verify(value == "true" || value == "1");
      } else {
        (*out->mutable_labels())[key] = value;
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status RoundRobinDecider::Authorize(grpc::ServerContext&, const sdk::v1::AuthorizeRequest& req,
                                          sdk::v1::AuthorizeResponse& resp) {
  std::string cls = sdk::v1::EndpointClass_Name(req.endpoint_class());
  constexpr std::string_view kPrefix = "ENDPOINT_CLASS_";
  if (cls.rfind(kPrefix, 0) == 0) cls = cls.substr(kPrefix.size());
  for (auto& c : cls) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (denied_.count(cls)) {
    resp.set_allow(false);
    resp.set_message("flocker-decider: " + cls + " requests are not allowed (" + req.method() + " " + req.path() + ")");
    spdlog::info("authorize {}: denied {} {} from {}", req.request_id(), req.method(), req.path(),
                 req.client().tls_subject().empty() ? req.client().remote_address() : req.client().tls_subject());
    return grpc::Status::OK;
  }
  resp.set_allow(true);
  return grpc::Status::OK;
}

grpc::Status RoundRobinDecider::Route(grpc::ServerContext&, const sdk::v1::RouteRequest& req,
                                      sdk::v1::RouteResponse& resp) {
  return decide(req, resp);
}

std::vector<std::string> RoundRobinDecider::healthy_candidates(
    const sdk::v1::RouteRequest& req) const {
  std::vector<std::string> names;
  if (req.candidates_size() == 0) {
    const auto snapshot = hosts();  // held for the loop, as in List
    for (const auto& h : *snapshot) names.push_back(h.name);
    return names;
  }
  for (const auto& c : req.candidates()) {
    if (c.healthy()) names.push_back(c.name());
  }
  return names;
}

std::string RoundRobinDecider::next_of(const std::vector<std::string>& healthy) {
  return healthy[next_.fetch_add(1, std::memory_order_relaxed) % healthy.size()];
}

std::string RoundRobinDecider::pick(const sdk::v1::RouteRequest& req, const std::vector<std::string>& hosts) {
  if (strategy_ == Strategy::kRoundRobin || req.candidates_size() == 0) return next_of(hosts);
  if (strategy_ == Strategy::kRandom) {
    static thread_local std::mt19937_64 random{std::random_device{}()};
    return hosts[random() % hosts.size()];
  }
  // spread: the fewest containers; binpack: the fullest (reserved CPU or memory, whichever
  // is the larger share). Ties go round-robin, so that equals still take turns.
  auto score = [&](const std::string& name) -> double {
    for (const auto& c : req.candidates()) {
      if (c.name() != name) continue;
      if (strategy_ == Strategy::kSpread) return -static_cast<double>(c.containers_total());
      const double cpu = c.ncpu() > 0 ? c.reserved_nano_cpus() / (c.ncpu() * 1e9) : 0;
      const double mem = c.mem_total_bytes() > 0 ? static_cast<double>(c.reserved_memory_bytes()) / c.mem_total_bytes() : 0;
      return std::max(cpu, mem) + 1e-9 * c.containers_running();
    }
    return 0;
  };
  double best = -1e300;
  std::vector<std::string> top;
  for (const auto& h : hosts) {
    const double s = score(h);
    if (s > best + 1e-12) {
      best = s;
      top = {h};
    } else if (s > best - 1e-12) {
      top.push_back(h);
    }
  }
  return next_of(top);
}

grpc::Status RoundRobinDecider::decide(const sdk::v1::RouteRequest& req,
                                       sdk::v1::RouteResponse& resp) {
  const auto healthy = healthy_candidates(req);
  if (healthy.empty()) return {grpc::StatusCode::UNAVAILABLE, "no healthy host in the flock"};

  std::vector<std::string> chosen;
  const char* why = "round-robin";
  const bool pinned_ok = !req.pinned_host().empty() &&
                         std::find(healthy.begin(), healthy.end(), req.pinned_host()) != healthy.end();
  switch (req.kind()) {
    case sdk::v1::OPERATION_KIND_UNSPECIFIED:
      return {grpc::StatusCode::INVALID_ARGUMENT, "route request without an operation kind"};
    case sdk::v1::OPERATION_KIND_IMAGE_PULL:
      if (pinned_ok) {
        chosen = {req.pinned_host()}, why = "pinned";
      } else if (pull_ == PullPlacement::kOne) {
        chosen = {next_of(healthy)};
      } else {
        chosen = healthy, why = "every healthy host";
      }
      break;
    case sdk::v1::OPERATION_KIND_VOLUME_CREATE:
    case sdk::v1::OPERATION_KIND_NETWORK_CREATE:
      if (req.scope() == sdk::v1::OBJECT_SCOPE_LOCAL) {  // its data or bridge is on one host
        chosen = {next_of(healthy)}, why = "round-robin, lives on one host";
      } else {
        chosen = healthy, why = "every healthy host";
      }
      break;
    default: {  // container create, build, load, import, and kinds added later
      // Swarm classic's rules narrow the candidates (constraints, affinities, ports), then
      // the strategy picks.
      std::vector<std::string> left = healthy;
      if (req.candidates_size() > 0) {
        const auto placement = sdk::apply_rules(req);
        if (placement.hosts.empty()) {
          return {grpc::StatusCode::FAILED_PRECONDITION,
                  fmt::format("unable to find a host that satisfies the following conditions: {}",
                              fmt::join(placement.unmet, ", "))};
        }
        left.clear();
        // An unused network the container names stays where it is, with its ID, when it can.
        for (const auto* c : sdk::keep_followed_in_place(req, placement.hosts)) left.push_back(c->name());
      }
      if (pinned_ok && std::find(left.begin(), left.end(), req.pinned_host()) != left.end()) {
        chosen = {req.pinned_host()}, why = "pinned";
      } else if (!req.cache_host().empty() && std::find(left.begin(), left.end(), req.cache_host()) != left.end()) {
        chosen = {req.cache_host()}, why = "its build cache";  // a rebuild cached, as on one engine
      } else {
        chosen = {pick(req, left)};
        why = strategy_ == Strategy::kRoundRobin ? "round-robin" : "strategy";
      }
    }
  }
  for (const auto& name : chosen) resp.add_hosts(name);
  std::vector<std::string> needs;  // what the proxy kept the candidates to, and why
  for (const auto& r : req.requirements()) {
    needs.push_back(fmt::format("{} {} on {}", r.referred_by(), r.object(), fmt::join(r.hosts(), "+")));
  }
  spdlog::info("route {} {} image='{}' name='{}' -> {} ({}{}{})", req.request_id(),
               OperationKind_Name(req.kind()), req.image(), req.name(), fmt::join(chosen, ","),
               why, needs.empty() ? "" : "; needs ", fmt::join(needs, ", "));
  return grpc::Status::OK;
}

}  // namespace flocker::decider
