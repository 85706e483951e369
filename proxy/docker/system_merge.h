// The flock's own /info, /version and /_ping: one engine made of many.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flocker::docker {

// What the proxy knows of one host, for docker info.
struct HostSummary {
  std::string name;
  std::string address;
  std::map<std::string, std::string> labels;
  bool healthy = false;
  std::string error;         // why unhealthy
  std::string_view info_json;     // the host's last /info ("" if never reached): held by the caller
  std::string_view version_json;  // the host's /version: held by the caller
  // What it holds, counted from the object model when the model is exact for it (then these,
  // not info_json's, are its counts).
  struct Counts {
    int64_t containers = 0, running = 0, paused = 0, stopped = 0, images = 0;
  };
  std::optional<Counts> counts = {};
  // What its containers reserve (HostConfig.NanoCpus and Memory of those the proxy created),
  // shown against its NCPU and MemTotal as Swarm classic's "Reserved CPUs" and "Reserved
  // Memory" were.
  int64_t reserved_nano_cpus = 0, reserved_memory = 0;
  // How its part of the model stands: "live" (listed, then kept by its events), "resyncing"
  // (being listed again: read from the engine meanwhile), "down".
  std::string model = {};
  // How old info_json is: its SystemTime, the engine's clock then, is moved on by as much.
  std::chrono::nanoseconds info_age{0};
  // How it joins multi-host networks: "swarm manager", "swarm worker", "cluster store", "".
  std::string networks = {};
};

struct FlockIdentity {
  std::string name;           // the flock's Name in docker info
  std::string id;             // its ID
  std::string version;        // flocker's version
  std::string decider;        // the decider's address
  // More lines for /info's Warnings, which the docker CLI prints at the end of docker info
  // (e.g. another proxy serving the flock without coordination).
  std::vector<std::string> warnings = {};
  // The flock's Images: the distinct image IDs of its healthy hosts (an image copied to
  // three hosts is one image, as on one engine). nullopt: each host's Images, summed.
  std::optional<int64_t> images = {};
  // The multi-host network facility its hosts share ("swarm", "cluster store"; "" none) and
  // on how many of them: a SystemStatus line, as docker info's per-host lines.
  std::string multihost = {};
  std::size_t multihost_hosts = 0;
};

// GET /info: the first healthy host's info as the base (so every field the CLI reads is
// there, SystemTime moved on to now), with the flock's Name and ID, sums of what the flock
// holds (containers running/paused/stopped; images: distinct IDs), the largest host's NCPU and MemTotal (what one container can get,
// which is what a client of one engine compares a container with), and one SystemStatus
// block per host with its own figures, as Swarm classic had; Warnings: one per unhealthy host,
// then flock.warnings. `api_version` is the version the client asked for ("" for none): older
// versions get the fields dockerd adds for them.
std::string merge_info(const std::vector<HostSummary>& hosts, const FlockIdentity& flock,
                       const std::string& api_version = "");

// A host's swarm state from its /info ("inactive" outside a swarm; "" when unknown).
std::string swarm_state(const std::string& info_json);

// GET /version: flocker's version, the lowest ApiVersion any host supports (and the highest
// MinAPIVersion), each engine as a component.
std::string merge_version(const std::vector<HostSummary>& hosts, const FlockIdentity& flock);

// The API version every host supports ("1.41"), from their /version; `fallback` when none
// is known.
std::string flock_api_version(const std::vector<HostSummary>& hosts, const std::string& fallback);

// -1, 0, 1 as dotted versions compare ("1.9" < "1.41").
int compare_api_versions(const std::string& a, const std::string& b);

}  // namespace flocker::docker
