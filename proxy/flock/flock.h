// The state a flock shares between the I/O threads (requests) and the control plane
// (inventory, health, event streams).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "flock/coordination/buildkit_pins.h"
#include "flock/coordination/coordination.h"
#include "flock/control/decider_client.h"
#include "flock/control/engine_tls.h"
#include "flock/model/exec_index.h"
#include "flock/flock_metrics.h"
#include "flock/control/inventory.h"
#include "flock/coordination/keyed_lock.h"
#include "flock/model/object_model.h"
#include "flock/coordination/peer_proxies.h"
#include "flock/coordination/pull_pins.h"
#include "flock/coordination/reserved_names.h"
#include "flock/coordination/single_flight.h"
#include "flock/model/tag_sync.h"
#include "round_robin_decider.h"

namespace flocker::flock {

enum class DeciderFailure { kFail, kRoundRobin };

struct FlockOptions {
  std::string name = "flocker";         // the flock's Name in docker info
  std::string proxy_name;               // ListRequest.proxy_name
  // ListRequest.proxy_instance: drawn at start (draw_proxy_instance), unique per process.
  std::string proxy_instance;
  // ListRequest.coordinated: names are shared with the flock's other proxies (--coordination).
  bool coordinated = false;
  DeciderOptions decider;
  DeciderFailure on_decider_failure = DeciderFailure::kFail;
  std::chrono::milliseconds inventory_refresh{std::chrono::seconds(30)};
  std::chrono::milliseconds health_interval{std::chrono::seconds(2)};
  std::chrono::milliseconds engine_timeout{std::chrono::seconds(5)};  // the proxy's own calls
  // How long an engine may take to start answering a client's request (docker::answer_deadline
  // lifts it for requests that answer after their work), and how long before a slow answer
  // has the engine's health checked at once.
  std::chrono::milliseconds answer_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds slow_answer{std::chrono::seconds(1)};
  std::chrono::seconds pin_ttl{120};
  std::size_t max_create_body = 4 * 1024 * 1024;
  EngineTlsDefaults engine_tls;  // for hosts whose List entry carries no TlsSettings
  // --coordination: names, pull pins and the inventory's generation shared through etcd.
  std::optional<CoordinationOptions> coordination;
  // --network-pool: subnets for multi-host networks created without one (nullopt: the
  // engine chooses, e.g. from a swarm's --default-addr-pool).
  std::optional<docker::Cidr> network_pool;
  unsigned network_pool_size = 24;
};

class Flock {
 public:
  explicit Flock(FlockOptions options);

  const FlockOptions options;
  const std::string id;  // the flock's ID in docker info (stable for a name)
  Inventory inventory;
  ObjectModel model;  // where every container, image, volume and network is
  FlockMetrics metrics{inventory, model};  // read by Prometheus' scrapes; goes before them
  ExecIndex execs;
  ReservedNames names;
  PullPins pins;
  // With --coordination (else null): started by start_coordination(), before requests.
  std::unique_ptr<Coordination> coordination;
  SingleFlight image_copies;  // one copy of an image to a host at a time
  KeyedLock network_follows;  // the creates that may move a network, one at a time per network
  KeyedLock tag_settling;     // a tag brought in line across hosts, one at a time per tag
  UnsettledTags unsettled_tags;
  BuildKitPins buildkit;         // a client's BuildKit connections, to one engine
  KeyedLock buildkit_deciding;   // a client's first BuildKit connections, decided one at a time
  DeciderClient decider;
  // Other proxies on this flock's decider that names are not kept unique with (set after each
  // List answer; warned about in the log and docker info).
  PeerProxies peers;
  // --decider-failure=round-robin, and Route answering UNIMPLEMENTED: the reference
  // decider's policy, in process.
  decider::RoundRobinDecider fallback;

  // docker run's pull pins (flock/coordination/pull_pins.h): this proxy's own, and with --coordination
  // those every proxy of the flock made (a client's three requests may reach three proxies).
  std::optional<std::string> find_pin(const std::string& client, const std::string& image);
  void remember_pin(const std::string& client, const std::string& image, const std::string& host);
  void forget_pin(const std::string& client, const std::string& image);

  // An optional RPC that answered UNIMPLEMENTED is not asked again for a while.
  bool skip_remap() const { return now_ns() < remap_unimplemented_until_; }
  bool skip_auth() const { return now_ns() < auth_unimplemented_until_; }
  void remap_unimplemented() { remap_unimplemented_until_ = now_ns() + kRecheck; }
  void auth_unimplemented() { auth_unimplemented_until_ = now_ns() + kRecheck; }

  // Set by the control plane: ask the decider's List again soon (a Route named a host the
  // proxy does not know).
  std::atomic<bool> inventory_stale{false};

  // Changes to images, volumes or networks made through this proxy whose hosts' lists have
  // not been read again since they answered: while there is one, those lists are read live
  // (read-your-writes without waiting for the engines' events).
  std::atomic<int> list_changes{0};
  // Image changes through this proxy that have answered and whose hosts' image lists (and
  // the tags they moved) are being read and brought in line: a request that resolves an
  // image by name waits for them (a `docker run app` right after `docker build -t app`).
  std::atomic<int> image_relists{0};

 private:
  static int64_t now_ns() {
    return std::chrono::steady_clock::now().time_since_epoch().count();
  }
  static constexpr int64_t kRecheck = 30'000'000'000;  // 30 s
  std::atomic<int64_t> remap_unimplemented_until_{0};
  std::atomic<int64_t> auth_unimplemented_until_{0};
};

}  // namespace flocker::flock
