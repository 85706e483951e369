// The messages dockerd itself uses, so that the CLI's output through flocker reads the same.
#pragma once

#include <string>
#include <string_view>

namespace flocker::docker {

inline std::string no_such_container(std::string_view ref) {
  return "No such container: " + std::string(ref);
}
inline std::string no_such_exec(std::string_view id) {
  return "No such exec instance: " + std::string(id);
}
inline std::string no_such_image(std::string_view ref) {
  return "No such image: " + std::string(ref);
}
inline std::string name_conflict(std::string_view name, std::string_view id) {
  return "Conflict. The container name \"/" + std::string(name) + "\" is already in use by container \"" +
         std::string(id) + "\". You have to remove (or rename) that container to be able to reuse that name.";
}
// An engine outside swarm mode, asked about a swarm.
constexpr const char* kNotSwarmManager =
    "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect "
    "this node to swarm and try again.";
constexpr const char* kNotInSwarm = "This node is not part of a swarm";

// A request's /vX.YY outside what the engine serves.
inline std::string client_too_new(std::string_view version, std::string_view max) {
  return "client version " + std::string(version) + " is too new. Maximum supported API version is " +
         std::string(max);
}
inline std::string client_too_old(std::string_view version, std::string_view min) {
  return "client version " + std::string(version) + " is too old. Minimum supported API version is " +
         std::string(min) + ", please upgrade your client to a newer version";
}

inline std::string ambiguous_prefix(std::string_view prefix) {
  return "Multiple IDs found with provided prefix: " + std::string(prefix);
}

}  // namespace flocker::docker
