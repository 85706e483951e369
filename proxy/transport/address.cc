#include "address.h"

#include <flocker/sdk/address.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace flocker::transport {

Address resolve_address(std::string_view text, bool listening) {
  std::string error;
  auto parsed = sdk::parse_docker_address(
      text, &error, listening ? sdk::AddressUse::kListen : sdk::AddressUse::kConnect);
  if (!parsed) throw std::invalid_argument(error);
  Address out;
  out.text = parsed->str();
  if (parsed->scheme == sdk::DockerAddress::Scheme::kUnix) {
    out.is_unix = true;
    out.unix_path = parsed->path;
    out.endpoint = Endpoint(asio::local::stream_protocol::endpoint(parsed->path));
    return out;
  }
  out.host = parsed->host;
  error_code ec;
  auto ip = asio::ip::make_address(parsed->host, ec);
  if (ec) {
    asio::io_context ctx;
    asio::ip::tcp::resolver resolver(ctx);
    auto results = resolver.resolve(parsed->host, std::to_string(parsed->port), ec);
    if (ec || results.empty()) {
      throw std::invalid_argument("cannot resolve " + out.text + ": " + ec.message());
    }
    out.endpoint = Endpoint(results.begin()->endpoint());
    return out;
  }
  out.endpoint = Endpoint(asio::ip::tcp::endpoint(ip, parsed->port));
  return out;
}

std::optional<FdListen> parse_fd_listen(std::string_view text) {
  constexpr std::string_view kScheme = "fd://";
  if (!text.starts_with(kScheme)) return std::nullopt;
  const std::string_view number = text.substr(kScheme.size());
  FdListen out;
  if (number.empty()) return out;
  int fd = -1;
  const char* end = number.data() + number.size();
  auto [stop, ec] = std::from_chars(number.data(), end, fd);
  // 0, 1 and 2 are stdin, stdout and stderr: a service manager passes sockets from 3 on.
  if (ec != std::errc() || stop != end || fd < 3) {
    throw std::invalid_argument("listen address '" + std::string(text) +
                                "': want fd:// (every socket systemd passed) or fd://N (N >= 3)");
  }
  out.fd = fd;
  return out;
}

namespace {

int socket_option(int fd, int option) {
  int value = 0;
  socklen_t size = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &size) != 0) {
    throw std::invalid_argument("fd " + std::to_string(fd) + " is not a socket: " +
                                std::strerror(errno));
  }
  return value;
}

// A unix socket's name as we print it: its path, "@name" when abstract (Linux), or "" when
// unnamed.
std::string unix_name(const sockaddr_storage& storage, socklen_t size) {
  const auto& un = reinterpret_cast<const sockaddr_un&>(storage);
  const std::size_t offset = offsetof(sockaddr_un, sun_path);
  if (size <= offset) return "";
  std::string name(un.sun_path, size - offset);
  if (name[0] == '\0') return "@" + name.substr(1);
  return name.substr(0, name.find('\0'));  // a path's size may count its terminating NUL
}

}  // namespace

Address inherited_address(int fd) {
  const std::string which = "fd " + std::to_string(fd);
  // A service manager may pass any descriptor (a datagram socket, a FIFO): only a listening
  // stream socket is a front door (ListenStream= in a .socket unit).
  if (socket_option(fd, SO_TYPE) != SOCK_STREAM || !socket_option(fd, SO_ACCEPTCONN)) {
    throw std::invalid_argument(which + " is not a listening stream socket (want ListenStream=)");
  }
  sockaddr_storage storage{};
  socklen_t size = sizeof storage;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &size) != 0) {
    throw std::invalid_argument("cannot read the address of " + which + ": " +
                                std::strerror(errno));
  }
  Address out;
  out.inherited = true;
  out.fd = fd;
  if (storage.ss_family == AF_UNIX) {
    out.is_unix = true;
    out.unix_path = unix_name(storage, size);
    out.text = "unix://" + out.unix_path;
    out.endpoint = Endpoint(&storage, size, 0);
    return out;
  }
  if (storage.ss_family != AF_INET && storage.ss_family != AF_INET6) {
    throw std::invalid_argument(which + ": address family " + std::to_string(storage.ss_family) +
                                " is neither tcp nor unix");
  }
  asio::ip::tcp::endpoint tcp;
  std::memcpy(tcp.data(), &storage, size);
  tcp.resize(size);
  sdk::DockerAddress printed;
  printed.host = tcp.address().to_string();
  printed.port = tcp.port();
  out.host = printed.host;
  out.text = printed.str();
  out.endpoint = Endpoint(&storage, size, IPPROTO_TCP);
  return out;
}

}  // namespace flocker::transport
