// The proxies that called a decider's List lately (ListResponse.proxies), kept by the SDK's
// server for every C++ decider: a proxy without --coordination that is not alone on the
// flock can then warn (container names are unique only within each proxy).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "flocker/v1/decider.pb.h"

namespace flocker::sdk::detail {

class ProxiesSeen {
 public:
  using Clock = std::chrono::steady_clock;
  // A proxy is "recent" for this long after its last List, or three times the refresh the
  // answer asked for when that is longer (a proxy asks again after that refresh).
  static constexpr std::chrono::seconds kWindow{90};
  // At most this many are tracked (the least recent leave first): a client that sends a new
  // instance every call costs memory and answer size, both bounded.
  static constexpr std::size_t kMaxTracked = 256;

  // Records one List call: the request, the caller's connection (ServerContext::peer(), which
  // tells apart older proxies that send no proxy_instance) and the refresh interval the
  // answer asks for (0: the proxy's default).
  void record(const v1::ListRequest& request, const std::string& peer, uint32_t refresh_seconds,
              Clock::time_point now = Clock::now());

  // Fills `response.proxies` with every recent proxy (the caller included), ordered by
  // instance, unless the decider's own handler filled it.
  void fill(v1::ListResponse& response, Clock::time_point now = Clock::now());

  // How many are tracked (tests).
  std::size_t size();

 private:
  struct Seen {
    std::string name;
    std::string instance;
    bool coordinated = false;
    Clock::time_point last;
    Clock::duration keep;
  };
  void prune(Clock::time_point now);  // under mu_

  std::mutex mu_;
  std::map<std::string, Seen> seen_;  // by instance ("peer:..." for proxies without one)
};

}  // namespace flocker::sdk::detail
