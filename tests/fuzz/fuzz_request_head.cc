// Fuzzes what a client's first bytes meet: the request head parsed by Beast exactly as
// transport/session.cc sets its parser up (request_parser<buffer_body>, 64 KiB header limit,
// no body limit, header only), session.cc's refusals, then the gate's path checks
// (docker::non_canonical_target) and docker::classify / parse_target / the policy's
// endpoint class. Every byte of it comes from an unauthenticated client, and the route it
// yields decides which engine, policy and body checks apply.
// Checks: no crash/UB; a canonical target classifies to a route whose rebuilt target is the
// request's own (what the proxy forwards is what it checked).
#include <boost/beast/core/string.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "docker/api_target.h"
#include "docker/policy.h"
#include "docker/route_table.h"
#include "transport/body_framing.h"
#include "transport/net.h"

namespace http = flocker::transport::http;
namespace docker = flocker::docker;

namespace {

// transport/session.cc's refusal(), which lives in an anonymous namespace there.
bool refused(const http::request_parser<http::buffer_body>& parser) {
  const auto& req = parser.get();
  if (req.target().empty() || (req.target()[0] != '/' && req.target() != "*")) return true;
  auto te = req.find(http::field::transfer_encoding);
  if (te != req.end() && !boost::beast::iequals(te->value(), "chunked")) return true;
  if (req.count(http::field::transfer_encoding) > 1) return true;
  return req.method() == http::verb::unknown;
}

void check_target(http::verb method, std::string_view target) {
  const auto why = docker::non_canonical_target(target);
  const docker::Route route = docker::classify(method, target);
  (void)docker::endpoint_name(route.endpoint);
  (void)docker::endpoint_class(route, method);
  (void)docker::streams_request_body(route, method);
  (void)docker::body_is_checked(route, method);
  (void)docker::query_pairs(route.target.query);
  if (why) return;
  // Canonical: the target the proxy forwards (rebuilt from its parts) is the one it checked.
  const std::string rebuilt = route.target.rebuild(route.target.query);
  const bool had_empty_query = target.ends_with('?');  // rebuild drops an empty query's '?'
  if (!had_empty_query && rebuilt != target && !route.target.version.empty() &&
      route.target.path == "/" && !target.substr(0, target.find('?')).ends_with('/')) {
    return;  // "/v1.41" alone: rebuilt as "/v1.41/", which the engine routes the same
  }
  if (!had_empty_query && rebuilt != target) {
    std::fprintf(stderr, "rebuilt target differs: [%s] -> [%s]\n", std::string(target).c_str(),
                 rebuilt.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::buffer_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(flocker::transport::kUnlimitedBody);
  parser.eager(false);
  boost::system::error_code ec;
  // Fed as async_read_header would, in whatever pieces: here all at once, then byte-wise
  // remainder until the header is done (Beast asks for more with need_more).
  std::size_t used = parser.put(boost::asio::buffer(data, size), ec);
  if (ec == http::error::need_more) return 0;
  if (ec || !parser.is_header_done()) return 0;
  (void)used;
  if (refused(parser)) return 0;
  const auto& req = parser.get();
  // Exchange's request_framing(): the framing the body relay then follows.
  auto framing = parser.chunked() ? flocker::transport::BodyFraming::chunked()
                 : parser.content_length()
                     ? flocker::transport::BodyFraming::length(*parser.content_length())
                     : flocker::transport::BodyFraming::none();
  (void)framing.done();
  (void)req.keep_alive();
  (void)parser.upgrade();
  check_target(req.method(), req.target());
  return 0;
}
