// The other flocker-proxy processes serving this flock, as the decider's List tells them
// (ListResponse.proxies). Without --coordination each proxy keeps container names unique only
// among its own creates, so another proxy on the same decider is worth a warning: in the log
// once per peer, and in docker info's Warnings while it is seen.
// Written by the control plane's thread, read by the request threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace flocker::flock {

struct PeerProxy {
  std::string name;      // its ListRequest.proxy_name
  std::string instance;  // its ListRequest.proxy_instance ("" from an older proxy)
  bool coordinated = false;

  bool operator==(const PeerProxy&) const = default;
};

// 16 random hex digits: this process's ListRequest.proxy_instance (drawn at start).
inline std::string draw_proxy_instance() {
  std::random_device random;
  const uint64_t n = (static_cast<uint64_t>(random()) << 32) ^ random();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 0; i < 16; ++i) out[i] = kHex[(n >> (60 - 4 * i)) & 0xf];
  return out;
}

// Of the proxies the decider saw, those whose names this proxy's are not kept unique with:
// every other instance, when either side runs without --coordination.
inline std::vector<PeerProxy> uncoordinated_peers(const std::vector<PeerProxy>& seen,
                                                  const std::string& self_instance,
                                                  bool self_coordinated) {
  std::vector<PeerProxy> out;
  for (const auto& p : seen) {
    if (p.instance == self_instance) continue;  // this proxy
    if (self_coordinated && p.coordinated) continue;
    out.push_back(p);
  }
  return out;
}

class PeerProxies {
 public:
  // The current peers, replaced after each List answer (empty when the decider does not
  // track proxies). Returns those not warned about before, for the log.
  std::vector<PeerProxy> update(std::vector<PeerProxy> peers) {
    std::lock_guard lock(mu_);
    std::vector<PeerProxy> fresh;
    for (const auto& p : peers) {
      if (warned_.insert(key(p)).second) fresh.push_back(p);
    }
    current_ = std::move(peers);
    // (A peer restarting draws a new instance: forget the gone ones now and then.)
    if (warned_.size() > 1024) {
      warned_.clear();
      for (const auto& p : current_) warned_.insert(key(p));
    }
    return fresh;
  }

  std::vector<PeerProxy> current() const {
    std::lock_guard lock(mu_);
    return current_;
  }

  // One line of docker info's Warnings per current peer (the first kMaxShown, then a count).
  // The docker CLI prints them as they are: "WARNING: " as dockerd's own warnings begin.
  static constexpr std::size_t kMaxShown = 16;
  std::vector<std::string> info_warnings() const {
    std::vector<std::string> out;
    const auto peers = current();
    for (const auto& p : peers) {
      if (out.size() == kMaxShown) {
        out.push_back("WARNING: and " + std::to_string(peers.size() - kMaxShown) +
                      " more flocker-proxy processes serve this flock without coordination");
        break;
      }
      out.push_back(
          "WARNING: another flocker-proxy (" + p.name + ", " + instance_text(p) +
          ") serves this flock " +
          (p.coordinated ? "with --coordination, this one without" : "without --coordination") +
          ": names are unique only per proxy");
    }
    return out;
  }

  // The log's warning for a new peer (`self`: this proxy's instance).
  static std::string log_warning(const PeerProxy& p, const std::string& self) {
    return "another flocker-proxy (name " + p.name + ", " + instance_text(p) +
           ") uses this flock's decider " +
           (p.coordinated
                ? "with --coordination, and this proxy (instance " + self + ") runs without it"
                : "without --coordination") +
           ": container names are unique only within each proxy; run every proxy with "
           "--coordination etcd://...";
  }

 private:
  static std::string key(const PeerProxy& p) {
    return p.instance.empty() ? "name:" + p.name : p.instance;
  }
  static std::string instance_text(const PeerProxy& p) {
    return p.instance.empty() ? "an older proxy without instance ID" : "instance " + p.instance;
  }

  mutable std::mutex mu_;
  std::vector<PeerProxy> current_;
  std::set<std::string> warned_;  // the peers already warned about in the log
};

}  // namespace flocker::flock
