// Several hosts' line streams (events, progress) as one chunked response: each line tagged
// with its host, written as it comes; over when every stream is, or when the client leaves
// (which ends every upstream stream at once).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "transport/client_call.h"
#include "transport/exchange.h"

namespace flocker::flock {

struct LineSource {
  std::string host;
  std::unique_ptr<transport::StreamCall> stream;
};

using LineTag = std::function<std::string(std::string_view line, std::string_view host)>;

// Responds 200 with `content_type`, writes `first_lines`, then the sources' lines.
transport::Task<void> merge_line_streams(transport::Exchange& ex, std::vector<LineSource> sources,
                                         LineTag tag, std::vector<std::string> first_lines,
                                         std::string_view content_type = "application/json");

}  // namespace flocker::flock
