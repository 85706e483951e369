#include "docker/single_engine_handler.h"

#include "docker/error_response.h"
#include "transport/forward.h"

namespace flocker::docker {

transport::Task<void> SingleEngineHandler::handle(transport::Exchange& exchange) {
  co_await transport::forward(exchange, engine_);
}

transport::http::response<transport::http::string_body> SingleEngineHandler::render_error(
    transport::http::status status, std::string_view message) const {
  return error_response(status, message);
}

}  // namespace flocker::docker
