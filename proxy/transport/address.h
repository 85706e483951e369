// Listen and upstream addresses: `tcp://HOST:PORT`, `unix:///path`, or a bare HOST:PORT.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "net.h"

namespace flocker::transport {

struct TlsClient;

struct Address {
  Endpoint endpoint;
  std::string text;       // canonical form, for logs and messages
  bool is_unix = false;
  std::string unix_path;  // when is_unix
  std::string host;       // when tcp: the host as given (name or IP), for TLS name checks
  // Set for an engine spoken to over TLS (tcp only): its context and expected name.
  std::shared_ptr<const TlsClient> tls;
};

// Parses and resolves (numerically, or with getaddrinfo for names: call it off the I/O
// threads). Throws std::invalid_argument with a message for the user. `listening` allows
// port 0 (any free port).
Address resolve_address(std::string_view text, bool listening = false);

}  // namespace flocker::transport
