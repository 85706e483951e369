#include "flocker/sdk/metrics_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>
#include <thread>

#include "flocker/sdk/address.h"

namespace flocker::metrics {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// How long a scraper may take to send its request: a client that connects and says
// nothing must not hold a connection (and a file descriptor) forever.
constexpr auto kRequestTimeout = std::chrono::seconds(10);

http::response<http::string_body> answer(const http::request<http::string_body>& req,
                                         const Registry& registry) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  const std::string_view target = req.target();
  const auto path = target.substr(0, target.find('?'));
  if (path != "/metrics") {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "not found: metrics are at /metrics\n";
  } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
  } else {
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = registry.render();
    if (req.method() == http::verb::head) {
      res.content_length(res.body().size());
      res.body().clear();
      return res;
    }
  }
  res.prepare_payload();
  return res;
}

asio::awaitable<void> serve_connection(boost::beast::tcp_stream stream, const Registry& registry) {
  boost::beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    stream.expires_after(kRequestTimeout);
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    auto res = answer(parser.get(), registry);
    const bool keep = res.keep_alive();
    stream.expires_never();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const Registry& registry) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket(acceptor.get_executor());
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. EMFILE: try the next one
    asio::co_spawn(acceptor.get_executor(),
                   serve_connection(boost::beast::tcp_stream(std::move(socket)), registry),
                   asio::detached);
  }
}

}  // namespace

struct MetricsServer::Impl {
  std::vector<std::string> listen;
  Registry& registry;
  asio::io_context io{1};
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::thread thread;
};

MetricsServer::MetricsServer(std::vector<std::string> listen, Registry& registry)
    : impl_(new Impl{std::move(listen), registry, {}, {}, {}}) {}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::start() {
  for (const auto& text : impl_->listen) {
    std::string error;
    auto address = sdk::parse_docker_address(text, &error, sdk::AddressUse::kListen);
    if (!address || address->scheme != sdk::DockerAddress::Scheme::kTcp) {
      throw std::runtime_error("metrics address " + text + ": " +
                               (address ? "only tcp://HOST:PORT is served" : error));
    }
    try {
      tcp::resolver resolver(impl_->io);
      auto endpoint = *resolver.resolve(address->host, std::to_string(address->port)).begin();
      auto acceptor = std::make_unique<tcp::acceptor>(impl_->io, endpoint.endpoint());
      impl_->acceptors.push_back(std::move(acceptor));
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot listen for metrics on " + text + ": " + e.what());
    }
  }
  for (auto& acceptor : impl_->acceptors) {
    asio::co_spawn(impl_->io, accept_loop(*acceptor, impl_->registry), asio::detached);
    spdlog::info("metrics for Prometheus at http://{}:{}/metrics",
                 acceptor->local_endpoint().address().to_string(),
                 acceptor->local_endpoint().port());
  }
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

std::vector<int> MetricsServer::ports() const {
  std::vector<int> out;
  for (const auto& acceptor : impl_->acceptors) out.push_back(acceptor->local_endpoint().port());
  return out;
}

void MetricsServer::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->io.stop();
  impl_->thread.join();
}

}  // namespace flocker::metrics
