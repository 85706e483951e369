// Docker engine addresses in `docker -H` syntax, as used by Host.address in flocker.v1:
//   tcp://HOST:PORT   unix:///absolute/path   HOST:PORT (means tcp)
// HOST may be a name, an IPv4 address or a bracketed IPv6 address ([::1]).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flocker::sdk {

struct DockerAddress {
  enum class Scheme { kTcp, kUnix };
  Scheme scheme = Scheme::kTcp;
  std::string host;  // tcp: without brackets
  uint16_t port = 0;  // tcp
  std::string path;   // unix

  // The canonical spelling: "tcp://host:port" (IPv6 bracketed) or "unix:///path".
  std::string str() const;
};

// Parses an address. On failure returns nullopt and, when `error` is given, says why in a
// sentence fit for a user ("bad port in tcp://h:x"). Port 0 ("any free port") is only valid
// for an address to listen on.
enum class AddressUse { kConnect, kListen };
std::optional<DockerAddress> parse_docker_address(std::string_view text,
                                                  std::string* error = nullptr,
                                                  AddressUse use = AddressUse::kConnect);

}  // namespace flocker::sdk
