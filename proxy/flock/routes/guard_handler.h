// The proxy's gate, in front of the single-engine or flock handler: refuses non-canonical
// request paths, applies the built-in policy (docker/policy.h), and with --authorize asks the
// decider's Authorize about every request, showing it the body the engine will receive.
// Modelled on Envoy's ext_authz: a bounded body buffer, a deadline, and fail-closed.
#pragma once

#include <cstddef>
#include <string>

#include "docker/policy.h"
#include "flock/control/decider_client.h"
#include "transport/exchange.h"
#include "transport/handler.h"

namespace flocker::flock {

struct GuardOptions {
  docker::PolicyOptions policy;
  bool authorize = false;            // --authorize: ask the decider about every request
  std::size_t body_limit = 1 << 20;  // largest body buffered to check (larger: 413, refused)
};

class GuardHandler : public transport::Handler {
 public:
  // `decider` is needed only with options.authorize.
  GuardHandler(transport::Handler& inner, GuardOptions options, DeciderClient* decider);

  transport::Task<void> handle(transport::Exchange& ex) override;
  transport::http::response<transport::http::string_body> render_error(
      transport::http::status status, std::string_view message) const override {
    return inner_.render_error(status, message);
  }

  // A container create whose body RemapContainer rewrote: the policy and Authorize again, on
  // the body the engine will receive. False: refused (the response has been sent).
  transport::Task<bool> check_remapped(transport::Exchange& ex, const std::string& host,
                                       const std::string& body) const;

 private:
  // The checks; true when the request may go on (else the refusal has been sent).
  transport::Task<bool> admit(transport::Exchange& ex);
  transport::Task<bool> authorized(transport::Exchange& ex, const docker::Route& route,
                                   docker::EndpointClass cls, const std::string& body,
                                   bool inspected, v1::AuthorizeStage stage,
                                   const std::string& host) const;

  transport::Handler& inner_;
  const GuardOptions options_;
  DeciderClient* decider_;
};

}  // namespace flocker::flock
