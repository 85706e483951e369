#include "docker/error_response.h"

#include "docker/json.h"

namespace flocker::docker {

http::response<http::string_body> error_response(http::status status, std::string_view message) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = "{\"message\":";
  append_quoted(res.body(), message);
  res.body() += "}\n";
  res.prepare_payload();
  return res;
}

}  // namespace flocker::docker
