// One line per request, on the "access" logger:
//   GET /v1.41/containers/json 200 in=0 out=1234 1.2ms engine=tcp://... id=... peer=...
#pragma once

#include "exchange.h"

namespace flocker::transport {

void log_access(Exchange& exchange);

}  // namespace flocker::transport
