// The objects an engine holds, as its list endpoints and events describe them: containers,
// images, volumes and networks. What the flock's object model is filled from, and the rules
// that say where a volume or network lives (one host, or every host).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "docker/swarm_rules.h"

namespace flocker::docker {

struct ContainerSummary {
  std::string id;     // full 64-hex ID
  std::string name;   // without docker's leading '/' (the name, not a link alias)
  std::string image;  // as created ("busybox", an ID, ...)
  int64_t created = 0;
  bool running = false;  // running or paused: it holds its ports
  std::vector<HostPort> ports = {};  // the host ports it publishes (while running)
  std::string state = {};  // the list's "State": created, running, paused, restarting, exited, ...
};

struct ImageSummary {
  std::string id;                    // "sha256:..."
  std::vector<std::string> refs;     // RepoTags normalized ("busybox:latest") and RepoDigests
  std::string parent = {};           // ParentId ("" for none): `ps --filter ancestor=` walks it
  int64_t created = 0;
  std::string json = {};             // its list entry (all=1), minified: `docker images` from memory
};

struct VolumeSummary {
  std::string name;
  std::string driver;  // "local", ...
  std::string json = {};  // its list entry, minified: `docker volume ls` from memory
};

struct NetworkSummary {
  std::string id;
  std::string name;
  std::string driver;  // "bridge", "macvlan", "overlay", ...
  std::string scope;   // "local", "global", "swarm"
  std::string json = {};  // its list entry, minified: `docker network ls` from memory
};

// GET /containers/json?all=1, /images/json, /volumes, /networks; nullopt when the body is
// not the JSON an engine sends.
std::optional<std::vector<ContainerSummary>> parse_container_list(std::string_view json);
std::optional<std::vector<ImageSummary>> parse_image_list(std::string_view json);
std::optional<std::vector<VolumeSummary>> parse_volume_list(std::string_view json);
std::optional<std::vector<NetworkSummary>> parse_network_list(std::string_view json);

// One object from its own answer: POST /volumes/create and GET /volumes/{name} answer a
// volume; GET /networks/{id} a network.
std::optional<VolumeSummary> parse_volume(std::string_view json);
std::optional<NetworkSummary> parse_network(std::string_view json);

// The container's name among docker's Names ("/db", "/web/db" for a link alias): the one
// without a further '/'.
std::string_view primary_name(const std::vector<std::string_view>& names);

// The networks every engine has and that constrain nothing: "bridge", "host", "none", and
// "default" (the engine's default network mode).
bool is_predefined_network(std::string_view name);

// Whether a network of this driver lives on one host (bridge, macvlan, ipvlan; "" is bridge).
bool network_driver_is_local(std::string_view driver);

// Whether a volume of this driver and these options is shared storage that every host sees
// (a driver other than "local", or "local" mounting a network filesystem such as nfs or
// cifs), rather than data on one host. `fs_type` is DriverOpts "type".
bool volume_is_shared(std::string_view driver, std::string_view fs_type);

// From an engine's /info: its daemon labels ("key=value" items), and Swarm classic's engine
// facts (storagedriver, kernelversion, operatingsystem, ostype, architecture).
std::map<std::string, std::string> engine_labels(const simdjson::dom::element& info);
std::map<std::string, std::string> engine_facts(const simdjson::dom::element& info);

// A line of an engine's /events stream, as far as the object model reads it.
struct EngineEvent {
  std::string type;    // "container", "image", "volume", "network", ...
  std::string action;  // "create", "destroy", "rename", "exec_create: sh -c ...", ...
  std::string id;      // Actor.ID
  std::string name;    // Actor.Attributes.name (a container's new name on "rename")
  std::string image;   // Actor.Attributes.image (containers)
  std::string exec_id; // Actor.Attributes.execID (exec_create)
  std::string driver;  // Actor.Attributes.driver (volumes) or .type (networks)
  int64_t time = 0;
  std::string container = {};  // Actor.Attributes.container (network connect/disconnect)
};
std::optional<EngineEvent> parse_event(std::string_view line);

}  // namespace flocker::docker
