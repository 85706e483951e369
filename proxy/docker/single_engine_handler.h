// Single-engine mode (`--engine ADDRESS`): every request goes to one engine, unchanged.
// The data plane on its own, without flock logic; also what the transport tests run.
#pragma once

#include "transport/address.h"
#include "transport/handler.h"

namespace flocker::docker {

class SingleEngineHandler : public transport::Handler {
 public:
  explicit SingleEngineHandler(transport::Address engine) : engine_(std::move(engine)) {}

  transport::Task<void> handle(transport::Exchange& exchange) override;
  transport::http::response<transport::http::string_body> render_error(
      transport::http::status status, std::string_view message) const override;

 private:
  const transport::Address engine_;
};

}  // namespace flocker::docker
