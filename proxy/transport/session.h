// A client connection: reads requests one after another (keep-alive), checks each is
// well-formed HTTP, hands it to the handler, and writes its access-log line.
#pragma once

#include <chrono>

#include "exchange.h"
#include "handler.h"
#include "net.h"
#include "worker.h"

namespace flocker::transport {

struct SessionOptions {
  std::size_t max_header_bytes = 64 * 1024;
  // How long a client may take to send the next request's header, idle time included
  // (--client-idle-timeout; 0: forever). Streams and hijacked sessions are not affected:
  // they are past their header.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
};

Task<void> run_session(Worker& worker, Handler& handler, Socket client, Peer peer,
                       const SessionOptions& options);

}  // namespace flocker::transport
