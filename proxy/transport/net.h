// The vocabulary of the transport layer: one socket type for TCP and unix sockets alike,
// coroutines for every asynchronous operation.
#pragma once

#include <cstdint>
#include <limits>
#include <utility>  // boost 1.74 awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace flocker::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;

// TCP and unix-domain stream sockets share one type, so every session, pool and relay is
// written once.
using Protocol = asio::generic::stream_protocol;
using Socket = Protocol::socket;
using Endpoint = Protocol::endpoint;
using Acceptor = asio::basic_socket_acceptor<Protocol>;

// "No body limit" for Beast parsers. Not boost::none: Boost 1.74 compares a Content-Length
// against an empty optional limit as exceeding it.
constexpr uint64_t kUnlimitedBody = std::numeric_limits<uint64_t>::max();

template <class T = void>
using Task = asio::awaitable<T>;

// `co_await op(..., ec_token(ec))`: errors land in ec instead of throwing.
inline auto ec_token(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

}  // namespace flocker::transport
