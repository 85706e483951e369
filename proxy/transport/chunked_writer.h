// A response the proxy composes as it goes (merged event streams, fan-out progress): the
// header with Transfer-Encoding: chunked, then one chunk per write.
#pragma once

#include <string_view>

#include "exchange.h"
#include "net.h"
#include "request_metrics.h"

namespace flocker::transport {

class ChunkedWriter {
 public:
  explicit ChunkedWriter(Exchange& exchange) : ex_(exchange) {}

  // Writes the header (status, content type, chunked). False when the client is gone.
  Task<bool> start(http::status status, std::string_view content_type);
  Task<bool> write(std::string_view data);
  Task<bool> finish();

 private:
  Exchange& ex_;
  GaugeHold streaming_{open_streams()};
};

}  // namespace flocker::transport
