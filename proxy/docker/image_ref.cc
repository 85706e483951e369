#include "docker/image_ref.h"

namespace flocker::docker {
namespace {

bool has_tag_or_digest(std::string_view ref) {
  if (ref.find('@') != std::string_view::npos) return true;
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  return colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash);
}

bool looks_like_host(std::string_view component) {
  return component.find('.') != std::string_view::npos ||
         component.find(':') != std::string_view::npos || component == "localhost";
}

}  // namespace

std::string normalize_image(std::string_view ref) {
  if (ref.starts_with("sha256:")) return std::string(ref);
  for (std::string_view prefix : {"docker.io/", "index.docker.io/"}) {
    if (ref.starts_with(prefix)) ref.remove_prefix(prefix.size());
  }
  if (ref.starts_with("library/")) ref.remove_prefix(8);
  std::string out(ref);
  if (!has_tag_or_digest(ref)) out += ":latest";
  return out;
}

std::string registry_of(std::string_view ref) {
  auto slash = ref.find('/');
  if (slash == std::string_view::npos) return "docker.io";
  std::string_view first = ref.substr(0, slash);
  if (!looks_like_host(first) || first == "docker.io" || first == "index.docker.io") {
    return "docker.io";
  }
  return std::string(first);
}

std::string join_image_tag(std::string_view from_image, std::string_view tag) {
  if (tag.empty() || has_tag_or_digest(from_image)) return std::string(from_image);
  // A digest given as tag ("sha256:...") joins with '@'.
  return std::string(from_image) + (tag.find(':') != std::string_view::npos ? "@" : ":") +
         std::string(tag);
}

}  // namespace flocker::docker
