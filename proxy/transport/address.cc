#include "address.h"

#include <flocker/sdk/address.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
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

}  // namespace flocker::transport
