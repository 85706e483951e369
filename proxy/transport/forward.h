// Forwarding a client's request to an upstream server and the response back, streaming in
// both directions; an upgrade (101, or the legacy raw-stream 200) becomes a tunnel.
#pragma once

#include <chrono>
#include <string>

#include "address.h"
#include "exchange.h"
#include "net.h"

namespace flocker::transport {

struct ForwardOptions {
  std::string name;  // the upstream as the client knows it ("engine e2 (tcp://...)"); "" = its address
  // How long the upstream may take to start its answer once the request has been sent
  // (0: no limit). A stream that has started is never cut for being slow.
  std::chrono::milliseconds answer_timeout{0};
};

// Forwards the exchange's request (its header, then the rest of its body as it arrives) to
// `upstream` over a pooled connection. When the upstream cannot be reached, fails, or does
// not answer in time, the client gets a 502 naming it.
Task<void> forward(Exchange& exchange, const Address& upstream, const ForwardOptions& options = {});

}  // namespace flocker::transport
