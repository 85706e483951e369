// One client request sent to several upstreams at once (a pull, load or build the decider
// fans out): the same header to each, the body, if any, copied to every one as it arrives,
// so that the slowest upstream sets the pace and nothing is buffered whole.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "address.h"
#include "client_call.h"
#include "exchange.h"

namespace flocker::transport {

struct FanoutLeg {
  std::string name;                    // the caller's name for the upstream
  Address address;
  std::unique_ptr<StreamCall> stream;  // the response, header read, body to come
  CallResult failure;                  // when stream is null
};

Task<std::vector<FanoutLeg>> forward_to_many(Exchange& exchange, std::vector<FanoutLeg> legs);

// The client's request header as it goes upstream: hop-by-hop headers removed, an
// X-Request-Id added. (Done once per exchange; forward() does it too.)
void prepare_upstream_request(Exchange& exchange);

}  // namespace flocker::transport
