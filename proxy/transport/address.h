// Listen and upstream addresses: `tcp://HOST:PORT`, `unix:///path`, or a bare HOST:PORT; to
// listen, also `fd://` and `fd://N`: sockets handed over by systemd (socket activation).
#pragma once

#include <memory>
#include <optional>
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
  // A listening socket handed over (fd://): it is not ours to bind, chmod or unlink (its
  // owner, systemd, keeps it across our restarts).
  bool inherited = false;
  int fd = -1;  // when inherited
};

// Parses and resolves (numerically, or with getaddrinfo for names: call it off the I/O
// threads). Throws std::invalid_argument with a message for the user. `listening` allows
// port 0 (any free port).
Address resolve_address(std::string_view text, bool listening = false);

// `--listen fd://` (every socket the service manager passed) or `fd://N` (the one at
// descriptor N), as dockerd takes them. nullopt when `text` is not an fd:// address; throws
// std::invalid_argument when N is not a descriptor number a manager passes (3 or more).
struct FdListen {
  std::optional<int> fd;  // empty: all of them
};
std::optional<FdListen> parse_fd_listen(std::string_view text);

// The Address of the listening socket at `fd` (tcp or unix: its family is read with
// getsockname), marked inherited. Throws std::invalid_argument when `fd` is not a listening
// stream socket.
Address inherited_address(int fd);

}  // namespace flocker::transport
