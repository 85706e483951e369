// The reference decider's policy.
//
// - Container creates, builds, loads and imports: round-robin over the healthy candidates.
// - A pinned-host hint (a pull, or the retried create, inside `docker run`) is honoured
//   when that host is healthy, for every kind.
// - Pulls without a hint: every healthy host (or one, round-robin, with PullPlacement::kOne).
// - Volume and network creates: one host, round-robin, for what lives on one host (scope
//   LOCAL: a local volume's data, a local network's bridge; the proxy then places the
//   containers that use it there); every healthy host for shared ones (scope SHARED, or a
//   proxy that does not say).
// - Containers that refer to other objects: the proxy sends only the hosts that hold them as
//   candidates, so round-robin among the candidates is enough.
// - Swarm classic's placement rules (constraints, affinities, host ports; hard, then soft;
//   sdk/placement.h) narrow the candidates first; then the strategy (--strategy) picks.
// Candidates come from the proxy with their health; a request without candidates (a
// client other than the proxy) is answered from the decider's own inventory, all healthy.
#pragma once

#include <flocker/sdk/decider.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "host_list.h"

namespace flocker::decider {

enum class PullPlacement { kAll, kOne };

// How a host is chosen among those the rules leave (Swarm classic's strategies, and ours).
enum class Strategy {
  kRoundRobin,  // in turn
  kSpread,      // the fewest containers
  kBinpack,     // the most CPU and memory reserved already (fill a host before the next)
  kRandom,
};
std::optional<Strategy> strategy_from_name(std::string_view name);

class RoundRobinDecider : public sdk::Decider {
 public:
  explicit RoundRobinDecider(std::vector<HostEntry> hosts, PullPlacement pull = PullPlacement::kAll,
                             Strategy strategy = Strategy::kRoundRobin);

  // Replaces the inventory. Calls in flight finish with the list they started with.
  void set_hosts(std::vector<HostEntry> hosts);
  std::shared_ptr<const std::vector<HostEntry>> hosts() const;

  grpc::Status List(grpc::ServerContext& ctx, const sdk::v1::ListRequest& req,
                    sdk::v1::ListResponse& resp) override;
  grpc::Status Route(grpc::ServerContext& ctx, const sdk::v1::RouteRequest& req,
                     sdk::v1::RouteResponse& resp) override;
  // Allows every request but those of the endpoint classes given to deny_classes().
  grpc::Status Authorize(grpc::ServerContext& ctx, const sdk::v1::AuthorizeRequest& req,
                         sdk::v1::AuthorizeResponse& resp) override;

  // Endpoint classes Authorize refuses, by name ("exec", "build", ...: EndpointClass
  // without its prefix, lower case). Call before serving.
  void deny_classes(std::set<std::string> classes) { denied_ = std::move(classes); }

  // The decision itself, without the gRPC plumbing.
  grpc::Status decide(const sdk::v1::RouteRequest& req, sdk::v1::RouteResponse& resp);

 private:
  std::vector<std::string> healthy_candidates(const sdk::v1::RouteRequest& req) const;
  std::string next_of(const std::vector<std::string>& healthy);
  // One of `hosts` (names of candidates), by the strategy.
  std::string pick(const sdk::v1::RouteRequest& req, const std::vector<std::string>& hosts);

  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<HostEntry>> hosts_;
  std::atomic<uint64_t> next_{0};
  const PullPlacement pull_;
  const Strategy strategy_;
  std::set<std::string> denied_;
};

}  // namespace flocker::decider
