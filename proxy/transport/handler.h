// What the layer above the transport provides: the decision of what to do with each
// request, and the shape of error bodies (the transport knows no API, so it asks).
#pragma once

#include <string_view>

#include "net.h"

namespace flocker::transport {

class Exchange;

class Handler {
 public:
  virtual ~Handler() = default;

  // Handles one request: respond, or forward it upstream. Leaving the request body unread is
  // allowed (the client connection is then closed after the response).
  virtual Task<void> handle(Exchange& exchange) = 0;

  // An error response in the API's own shape, for errors the transport detects itself
  // (malformed request, upstream unreachable).
  virtual http::response<http::string_body> render_error(http::status status,
                                                         std::string_view message) const = 0;
};

}  // namespace flocker::transport
