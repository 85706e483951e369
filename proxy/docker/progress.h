// Docker's JSON progress streams (pull, push, load, build), merged from several hosts.
#pragma once

#include <string>
#include <string_view>

namespace flocker::docker {

// One progress message from `host`, marked so that messages from different hosts stay apart:
// its "id" becomes "host/id" (or "host" when it had none), which is what the CLI groups its
// progress lines by, and an error's message starts with "host: ".
std::string tag_progress(std::string_view line, std::string_view host);

// A progress message that carries an error (the CLI stops and prints it).
std::string progress_error(std::string_view message);

}  // namespace flocker::docker
