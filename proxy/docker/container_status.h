// How dockerd words a container's state in `docker ps`: the list entry's "Status" (its
// State.String()) and "State" (StateString()), with go-units' HumanDuration, so that a list
// answered from memory reads as the engine's would at the same moment.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flocker::docker {

using Clock = std::chrono::system_clock;

struct ContainerState {
  bool running = false, paused = false, restarting = false, dead = false, removing = false;
  int64_t exit_code = 0;
  std::optional<Clock::time_point> started_at, finished_at;  // nullopt: Go's zero time
  std::string health;  // "" (no healthcheck), "starting", "healthy", "unhealthy"
};

// go-units' HumanDuration: "Less than a second", "1 second", "About a minute", "3 hours", ...
std::string human_duration(std::chrono::nanoseconds d);

// "Up 3 minutes", "Up 5 seconds (healthy)", "Up 2 hours (Paused)", "Exited (0) 2 hours ago",
// "Restarting (1) 4 seconds ago", "Created", "Dead", "Removal In Progress".
std::string status_text(const ContainerState& s, Clock::time_point now);

// "created", "running", "paused", "restarting", "removing", "exited", "dead".
std::string_view state_word(const ContainerState& s);

// A time as docker writes it (RFC 3339, nanoseconds, "Z" or an offset); nullopt for Go's
// zero time ("0001-01-01T00:00:00Z") and for what is not a time.
std::optional<Clock::time_point> parse_docker_time(std::string_view text);

}  // namespace flocker::docker
