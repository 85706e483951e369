// `docker run` with an image no host has is three requests: create (404 No such image),
// pull, create again. The pull and the second create must land where the first create
// went, whatever the decider keeps in memory: the proxy remembers (client, image) -> host
// for a while and sends it as RouteRequest.pinned_host.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace flocker::flock {

class PullPins {
 public:
  explicit PullPins(std::chrono::seconds ttl) : ttl_(ttl) {}

  void remember(const std::string& client, const std::string& image, const std::string& host);
  std::optional<std::string> find(const std::string& client, const std::string& image);
  // The retried create succeeded: the pin has served its purpose.
  void forget(const std::string& client, const std::string& image);

 private:
  using Clock = std::chrono::steady_clock;
  struct Pin {
    std::string host;
    Clock::time_point expires;
  };
  const std::chrono::seconds ttl_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Pin> pins_;
};

}  // namespace flocker::flock
