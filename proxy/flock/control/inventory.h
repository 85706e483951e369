// The flock as the proxy sees it: every host from the decider's List, with its health and
// the figures a decider needs (containers, NCPU, MemTotal). Read on every request by every
// I/O thread as an immutable snapshot; written by the control plane. (What each host holds
// is the object model's.)
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "docker/multihost.h"
#include "transport/address.h"

namespace flocker::flock {

struct HostState {
  std::string name;
  transport::Address address;
  std::map<std::string, std::string> labels;

  bool healthy = false;
  bool checked = false;        // health known (at least one check done)
  std::string health_error;    // why it is unhealthy

  // From the engine's /info and /version (empty until the first successful check).
  std::string info_json;
  std::chrono::system_clock::time_point info_at{};  // when info_json was answered
  std::string version_json;
  std::string api_version;     // "1.41"
  std::string min_api_version; // "1.12"
  std::string engine_version;  // "20.10.24+dfsg1"
  int64_t containers_running = 0, containers_total = 0, ncpu = 0, mem_total = 0;
  std::map<std::string, std::string> engine_labels;  // dockerd --label, from /info
  // Swarm classic's engine facts for constraints: storagedriver, kernelversion,
  // operatingsystem, ostype, architecture. (`node`, the host's name, is added to each
  // Route candidate's facts, known or not.)
  std::map<std::string, std::string> facts;
  // How it joins networks that span hosts (a swarm, a cluster store), from /info.
  docker::MultiHost multihost;
};

using HostList = std::vector<HostState>;
using HostsSnapshot = std::shared_ptr<const HostList>;

class Inventory {
 public:
  Inventory() : hosts_(std::make_shared<const HostList>()) {}

  HostsSnapshot snapshot() const {
    std::lock_guard lock(mu_);
    return hosts_;
  }

  // Applies `change` to a copy and publishes it. Calls are serialized.
  template <class F>
  void update(F&& change) {
    std::lock_guard writer(write_mu_);
    auto next = std::make_shared<HostList>(*snapshot());
    change(*next);
    std::lock_guard lock(mu_);
    hosts_ = std::move(next);
  }

  // Updates one host by name, if it is still in the inventory.
  template <class F>
  void update_host(const std::string& name, F&& change) {
    update([&](HostList& hosts) {
      for (auto& h : hosts) {
        if (h.name == name) change(h);
      }
    });
  }

 private:
  mutable std::mutex mu_;
  std::mutex write_mu_;
  HostsSnapshot hosts_;
};

const HostState* find_host(const HostList& hosts, std::string_view name);

// The flock's multi-host network facility: the one most of its healthy hosts share (a mixed
// flock's other hosts cannot join its multi-host networks).
struct FlockNetworks {
  docker::MultiHost::Kind kind = docker::MultiHost::Kind::kNone;
  std::string key;
  std::vector<const HostState*> hosts;     // healthy, sharing it
  std::vector<const HostState*> managers;  // of those, swarm managers
  bool any() const { return kind != docker::MultiHost::Kind::kNone; }
  bool has(const std::string& host) const;
};
FlockNetworks flock_networks(const HostList& hosts);

}  // namespace flocker::flock
