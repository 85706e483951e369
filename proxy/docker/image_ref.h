// Image references as docker reads them.
#pragma once

#include <string>
#include <string_view>

namespace flocker::docker {

// The form engines list in RepoTags: "busybox" -> "busybox:latest",
// "docker.io/library/busybox" -> "busybox:latest", "127.0.0.1:5000/app" -> "...app:latest";
// digests and explicit tags are kept.
std::string normalize_image(std::string_view ref);

// The registry a reference is pulled from: "docker.io", or its first component when that
// looks like a host ("127.0.0.1:5000", "registry.example.com", "localhost").
std::string registry_of(std::string_view ref);

// fromImage and tag of POST /images/create joined into one reference.
std::string join_image_tag(std::string_view from_image, std::string_view tag);

}  // namespace flocker::docker
