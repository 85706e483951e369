#include "docker/single_engine_handler.h"

#include "docker/answer_deadline.h"
#include "docker/error_response.h"
#include "transport/forward.h"

namespace flocker::docker {

transport::Task<void> SingleEngineHandler::handle(transport::Exchange& exchange) {
  transport::ForwardOptions options;
  if (answer_timeout_.count() > 0) {
    const auto method = exchange.request().method();
    options.answer_timeout = answer_deadline(method, classify(method, exchange.request().target()), answer_timeout_);
  }
  co_await transport::forward(exchange, engine_, options);
}

transport::http::response<transport::http::string_body> SingleEngineHandler::render_error(
    transport::http::status status, std::string_view message) const {
  return error_response(status, message);
}

}  // namespace flocker::docker
