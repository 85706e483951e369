// Single-engine mode (`--engine ADDRESS`): every request goes to one engine, unchanged.
// The data plane on its own, without flock logic; also what the transport tests run.
#pragma once

#include <chrono>

#include "transport/address.h"
#include "transport/handler.h"

namespace flocker::docker {

class SingleEngineHandler : public transport::Handler {
 public:
  // `answer_timeout`: how long the engine may take to start an answer (answer_deadline; 0 = none).
  explicit SingleEngineHandler(transport::Address engine, std::chrono::milliseconds answer_timeout = {})
      : engine_(std::move(engine)), answer_timeout_(answer_timeout) {}

  transport::Task<void> handle(transport::Exchange& exchange) override;
  transport::http::response<transport::http::string_body> render_error(
      transport::http::status status, std::string_view message) const override;

 private:
  const transport::Address engine_;
  const std::chrono::milliseconds answer_timeout_;
};

}  // namespace flocker::docker
