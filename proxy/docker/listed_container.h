// A container as `docker ps` lists it, kept so that the list can be answered from memory:
// the engine's list entry (as the fan-out would pass it on, kHostLabel in its Labels), and
// what dockerd reads when it filters and words it, from the entry and the container's
// inspect. Only two values of the entry change without an event: "Status" (its durations
// grow) and "Image" (dockerd shows the image ID once the name no longer points at the
// image the container runs); both are written at read time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docker/container_status.h"
#include "docker/json.h"

namespace flocker::docker {

struct ListedContainer {
  std::string entry;  // minified; Image and Status are placeholders, see append_listed
  std::size_t image_at = 0, image_len = 0, status_at = 0, status_len = 0;

  std::string id;
  std::string name;       // the primary name, with docker's '/'
  std::vector<std::string> names;  // the list's Names: the primary one and link aliases
  std::string image_ref;  // Config.Image: what it was created from
  std::string image_id;   // "sha256:..."
  int64_t created = 0;     // seconds, as the list has it
  int64_t created_ns = 0;  // the engine's order (it sorts by the exact creation time)
  std::string state_word;  // the list's State
  ContainerState state;
  std::string health = "none";  // what `--filter health=` compares: none, starting, healthy, unhealthy
  std::map<std::string, std::string> labels;  // the engine's (without kHostLabel)
  struct Mount {
    std::string name, source, destination;
  };
  std::vector<Mount> mounts;
  std::vector<std::pair<std::string, std::string>> networks;  // name, NetworkID
  struct Port {
    int64_t public_port = 0, private_port = 0;
    std::string type, ip;
  };
  std::vector<Port> ports;
  std::string isolation;  // HostConfig.Isolation, lower-cased ("" on Linux)
  // The names of the containers it links to (HostConfig.Links): each lists an alias of it
  // among its Names ("/web/db"), which its create, rename and removal change.
  std::vector<std::string> links;
};

// From a list entry and the same container's inspect, on host `host`; nullopt when they are
// not what an engine sends, or not the same container.
std::optional<ListedContainer> listed_container(const dom::element& entry, const dom::element& inspect,
                                                std::string_view host);

// Whether the list entry and the inspect tell the same state, name and networks (dockerd
// updates the list a moment after some of its events: a read in between sees both).
bool list_agrees_with_inspect(const ListedContainer& c, const dom::element& entry, const dom::element& inspect);

// Appends its list entry as the engine would answer it at `now`, with `image` (a JSON-ready
// string value, unquoted) as its Image.
void append_listed(std::string& out, const ListedContainer& c, std::string_view image, Clock::time_point now);

}  // namespace flocker::docker
