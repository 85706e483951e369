// Forwarding a client's request to an upstream server and the response back, streaming in
// both directions; an upgrade (101, or the legacy raw-stream 200) becomes a tunnel.
#pragma once

#include "address.h"
#include "exchange.h"
#include "net.h"

namespace flocker::transport {

// Forwards the exchange's request (its header, then the rest of its body as it arrives) to
// `upstream` over a pooled connection. When the upstream cannot be reached, or fails before
// answering, the client gets a 502 naming it.
Task<void> forward(Exchange& exchange, const Address& upstream);

}  // namespace flocker::transport
