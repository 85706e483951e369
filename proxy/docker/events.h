// Docker event lines, tagged with the host they came from.
#pragma once

#include <string>
#include <string_view>

namespace flocker::docker {

// The event with `"com.docker.flocker.host": host` added to its Actor.Attributes (where
// `docker events --format` and filters see labels); unchanged if it has no Attributes.
std::string tag_event(std::string_view event, std::string_view host);

}  // namespace flocker::docker
