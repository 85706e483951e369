#include "flocker/sdk/address.h"

#include <charconv>

namespace flocker::sdk {
namespace {

std::optional<DockerAddress> fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return std::nullopt;
}

}  // namespace

std::string DockerAddress::str() const {
  if (scheme == Scheme::kUnix) return "unix://" + path;
  bool v6 = host.find(':') != std::string::npos;
  return "tcp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<DockerAddress> parse_docker_address(std::string_view text, std::string* error,
                                                  AddressUse use) {
  const std::string quoted = "'" + std::string(text) + "'";
  DockerAddress addr;
  std::string_view rest = text;
  if (rest.starts_with("unix://")) {
    addr.scheme = DockerAddress::Scheme::kUnix;
    addr.path = std::string(rest.substr(7));
    if (!addr.path.starts_with("/")) {
      return fail(error, "unix address " + quoted + " needs an absolute path (unix:///path)");
    }
    return addr;
  }
  if (rest.starts_with("tcp://")) {
    rest.remove_prefix(6);
  } else if (rest.find("://") != std::string_view::npos) {
    return fail(error, "address " + quoted + " has an unsupported scheme (use tcp:// or unix://)");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // "tcp://h:p/" is common
  std::string_view host, port;
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return fail(error, "address " + quoted + " is not [IPv6]:PORT");
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return fail(error, "address " + quoted + " has no port (want tcp://HOST:PORT)");
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail(error, "address " + quoted + ": put an IPv6 host in brackets, [::1]:2375");
    }
  }
  if (host.empty()) return fail(error, "address " + quoted + " has no host");
  if (host.find_first_of("/?#@ ") != std::string_view::npos) {
    return fail(error, "address " + quoted + " has a path or odd characters in its host");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535 ||
      (value == 0 && use != AddressUse::kListen)) {
    return fail(error, "address " + quoted + " has a bad port");
  }
  addr.host = std::string(host);
  addr.port = static_cast<uint16_t>(value);
  return addr;
}

}  // namespace flocker::sdk
