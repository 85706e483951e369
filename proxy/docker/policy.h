// The built-in endpoint policy, for users who run no Authorize decider: read-only mode,
// endpoint classes allowed or denied (docker-socket-proxy's toggles), and the refusal of
// container configurations that give a container the host (privileged, host namespaces,
// added capabilities, host mounts, devices, unconfined security profiles) unless allowed.
// Also what every check stands on: a request path the engine reads the same way we do.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "docker/route_table.h"

namespace flocker::docker {

enum class EndpointClass {
  kContainers,
  kImages,
  kExec,
  kBuild,
  kVolumes,
  kNetworks,
  kSystem,
  kEvents,
  kOther
};

const char* class_name(EndpointClass c);
std::optional<EndpointClass> class_from_name(std::string_view name);
EndpointClass endpoint_class(const Route& route, transport::http::verb method);

// Requests whose body is a stream the proxy relays without buffering (build contexts, image
// tarballs, archive uploads): an Authorize decider is told it did not see the body.
bool streams_request_body(const Route& route, transport::http::verb method);

// Why a request target is refused before anything reads it, or nullopt when it is canonical:
// "." or ".." segments, empty segments ("//"), encoded '/', '.', '\' or NUL, a backslash,
// a fragment, control characters. The engine's router would clean or decode these into a
// different path than the one the policy and the route table saw.
std::optional<std::string> non_canonical_target(std::string_view target);

// What a container may get from the host when policy allows it.
struct HostAccess {
  bool privileged = false;
  bool host_namespaces = false;  // network, pid, ipc, uts, userns, cgroupns "host"
  bool cap_add = false;
  bool host_mounts = false;  // bind mounts of host paths, local volumes with o=bind
  bool devices = false;
  bool unconfined = false;  // seccomp/apparmor unconfined, label=disable, systempaths
  bool all() const {
    return privileged && host_namespaces && cap_add && host_mounts && devices && unconfined;
  }
};

// Parses "privileged,host-namespaces,..." or "all". Throws std::invalid_argument.
HostAccess parse_host_access(std::string_view list);

struct PolicyOptions {
  bool read_only = false;          // only GET and HEAD (and nothing that hijacks)
  std::set<EndpointClass> denied;  // refused classes
  HostAccess allow;                // what create bodies may ask for
};

// Whether the endpoint itself is allowed. The message is the docker user's.
std::optional<std::string> check_endpoint(const PolicyOptions& options,
                                          transport::http::verb method, EndpointClass cls);

// Whether a request body asks for host access the policy does not allow: container create
// (the HostConfig, and its deprecated top-level copy), start with a body (API < 1.24),
// update, exec create, volume create. The body is read as the engine's decoder reads it:
// Go's first JSON value only (docker/go_json.h), field names case-insensitively, every repeat
// counting (Go takes the last). A body Go cannot decode passes: the engine refuses it before
// acting, with its own error. One Go can decode but the policy cannot parse is refused.
std::optional<std::string> check_body(const PolicyOptions& options, const Route& route,
                                      transport::http::verb method, std::string_view body);

// Whether check_body has anything to look at for this request.
bool body_is_checked(const Route& route, transport::http::verb method);

}  // namespace flocker::docker
