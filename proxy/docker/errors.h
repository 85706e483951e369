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
inline std::string ambiguous_prefix(std::string_view prefix) {
  return "Multiple IDs found with provided prefix: " + std::string(prefix);
}

}  // namespace flocker::docker
