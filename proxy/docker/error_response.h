// Errors in the Docker Engine API's shape: `{"message": "..."}` with docker's status codes.
// The CLI prints them as `Error response from daemon: <message>`.
#pragma once

#include <string>
#include <string_view>

#include "transport/net.h"

namespace flocker::docker {

namespace http = transport::http;

http::response<http::string_body> error_response(http::status status, std::string_view message);

}  // namespace flocker::docker
