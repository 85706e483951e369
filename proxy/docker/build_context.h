// What a build needs from the flock, read from its request before it is sent on: the
// images it starts FROM (to send it where they are). POST /build's body is the context, a
// tar stream; the proxy looks at its first bytes only (the Dockerfile is usually among the
// first entries: the CLI walks the context in name order) and never holds the whole of it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flocker::docker {

// The whole of the file `name` ("Dockerfile", "sub/Dockerfile.dev"; a leading "./" on
// either side is ignored) when it lies complete within `tar_prefix`, the start of a tar
// stream (ustar, GNU long names, PAX path records). nullopt when it is not there, or the
// prefix ends inside it, or the bytes are not a tar (a compressed context).
std::optional<std::string> file_in_tar(std::string_view tar_prefix, std::string_view name);

// The images a Dockerfile's stages start FROM and copy --from, in order, without repeats:
// not "scratch", not an earlier stage's name or number. ARGs before the first FROM are
// substituted ($NAME, ${NAME}, ${NAME:-default}), `build_args` winning over their defaults;
// a reference still holding a variable is left out (it cannot be known here).
std::vector<std::string> dockerfile_images(std::string_view dockerfile,
                                           const std::map<std::string, std::string>& build_args);

}  // namespace flocker::docker
