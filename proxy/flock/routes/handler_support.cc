#include "flock/routes/handler_support.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "docker/error_response.h"
#include "docker/merge.h"
#include "docker/system_merge.h"
#include "flock/flock_metrics.h"
#include "transport/forward.h"
#include "transport/gather.h"

namespace flocker::flock {

v1::Client client_of(Exchange& ex) {
  v1::Client c;
  c.set_remote_address(ex.peer().address);
  c.set_tls_subject(ex.peer().tls_subject);
  c.set_user_agent(std::string(ex.request()[http::field::user_agent]));
  return c;
}

std::string client_key(const Exchange& ex) {
  const std::string& a = ex.peer().address;
  auto colon = a.rfind(':');
  if (colon == std::string::npos || a == "unix") return a;
  return a.substr(0, colon);
}

std::vector<const HostState*> healthy_hosts(const HostList& hosts) {
  std::vector<const HostState*> out;
  for (const auto& h : hosts) {
    if (h.healthy) out.push_back(&h);
  }
  return out;
}

const ApiRange& api_range(const HostsSnapshot& hosts) {
  thread_local const HostList* cached_for = nullptr;
  thread_local HostsSnapshot keep;  // holds the snapshot, so its address is not reused meanwhile
  thread_local ApiRange range;
  if (cached_for == hosts.get()) return range;
  ApiRange next{"", ""};
  for (const auto& h : *hosts) {
    if (!h.api_version.empty() && (next.max.empty() || docker::compare_api_versions(h.api_version, next.max) < 0)) {
      next.max = h.api_version;
    }
    if (!h.min_api_version.empty() &&
        (next.min.empty() || docker::compare_api_versions(h.min_api_version, next.min) > 0)) {
      next.min = h.min_api_version;
    }
  }
  range = {next.min.empty() ? "1.12" : next.min, next.max.empty() ? "1.41" : next.max};
  keep = hosts;
  cached_for = hosts.get();
  return range;
}

http::status http_status_for(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE: return http::status::bad_request;
    case grpc::StatusCode::NOT_FOUND: return http::status::not_found;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED: return http::status::conflict;
    case grpc::StatusCode::PERMISSION_DENIED: return http::status::forbidden;
    case grpc::StatusCode::UNAUTHENTICATED: return http::status::unauthorized;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED: return http::status::service_unavailable;
    default: return http::status::internal_server_error;
  }
}

Task<void> respond_json(Exchange& ex, http::status status, std::string body) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  co_await ex.respond(std::move(res));
}

Task<void> respond_engine(Exchange& ex, http::response<http::string_body> response) {
  for (auto f : {http::field::connection, http::field::keep_alive, http::field::transfer_encoding,
                 http::field::content_length}) {
    response.erase(f);
  }
  response.chunked(false);
  co_await ex.respond(std::move(response));
}

Task<void> respond_host_down(Exchange& ex, const HostState& host, std::string_view why) {
  std::string message = fmt::format("host {} ({}) is unreachable", host.name, host.address.text);
  const std::string_view reason = why.empty() ? std::string_view(host.health_error) : why;
  if (!reason.empty()) message += ": " + std::string(reason);
  co_await ex.respond_error(http::status::bad_gateway, message);
}

Task<void> respond_coordination_down(Exchange& ex, const std::string& message) {
  spdlog::warn("{}: {}", ex.request_id(), message);
  co_await ex.respond_error(http::status::service_unavailable, message);
}

Task<void> forward_to(Exchange& ex, const HostState& host, std::chrono::milliseconds answer_timeout) {
  if (!host.healthy) {
    co_await respond_host_down(ex, host);
    co_return;
  }
  transport::ForwardOptions options;
  options.name = host.name + " (" + host.address.text + ")";
  options.answer_timeout = answer_timeout;
  co_await transport::forward(ex, host.address, options);
}

http::request<http::string_body> client_request(Exchange& ex, std::string target, std::string body) {
  const auto& in = ex.request();
  http::request<http::string_body> req{in.method(), target, 11};
  for (const auto& f : in) {
    switch (f.name()) {
      case http::field::connection:
      case http::field::keep_alive:
      case http::field::transfer_encoding:
      case http::field::content_length:
      case http::field::proxy_connection:
      case http::field::upgrade: continue;
      default: req.insert(f.name_string(), f.value());
    }
  }
  if (req.find("X-Request-Id") == req.end()) req.set("X-Request-Id", ex.request_id());
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

void note_upstream(Exchange& ex, const HostState& host) {
  auto& record = ex.record();
  if (record.upstream.find(host.address.text) == std::string::npos) {
    record.upstream += (record.upstream.empty() ? "" : ",") + host.address.text;
  }
}

Task<transport::CallResult> call_host(Exchange& ex, const HostState& host,
                                      http::request<http::string_body> request,
                                      std::chrono::milliseconds timeout) {
  note_upstream(ex, host);
  transport::CallOptions options;
  options.timeout = timeout;
  const auto started = std::chrono::steady_clock::now();
  auto result = co_await transport::call(ex.worker(), host.address, std::move(request), options);
  observe_host_call(host.name, metrics::seconds_since(started), result.ok());
  co_return result;
}

Task<std::vector<HostReply>> call_hosts(Exchange& ex, const std::vector<const HostState*>& hosts,
                                        http::verb method, std::string target, std::string body,
                                        std::chrono::milliseconds timeout) {
  std::vector<Task<transport::CallResult>> calls;
  for (const auto* h : hosts) {
    calls.push_back(call_host(ex, *h, transport::make_request(method, target, body, ex.request_id()),
                              timeout));
  }
  auto results = co_await transport::gather(std::move(calls));
  std::vector<HostReply> out;
  for (std::size_t i = 0; i < hosts.size(); ++i) out.push_back({hosts[i], std::move(results[i])});
  co_return out;
}

void LeftOut::add(const HostState& host, std::string_view why) {
  hosts.push_back(fmt::format("{} ({}): {}", host.name, host.address.text, why));
}

void LeftOut::add_down(const HostList& all, const std::vector<std::string>& names) {
  for (const auto& h : all) {
    if (h.healthy || (!names.empty() && std::find(names.begin(), names.end(), h.name) == names.end())) continue;
    add(h, h.health_error.empty() ? "unhealthy" : "unhealthy: " + h.health_error);
  }
}

Task<void> respond_merged(Exchange& ex, std::string body, const LeftOut& left) {
  http::response<http::string_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  if (!left.hosts.empty()) {
    std::vector<std::string> warnings;
    std::string header;
    for (const auto& h : left.hosts) {
      warnings.push_back("host " + h + " (left out of this answer)");
      header += (header.empty() ? "" : "; ") + h;
    }
    std::erase_if(header, [](char c) { return c == '\r' || c == '\n'; });  // one header line
    res.set(kLeftOutHeader, header);
    if (auto warned = docker::with_warnings(body, warnings)) body = std::move(*warned);
  }
  res.body() = std::move(body);
  co_await ex.respond(std::move(res));
}

std::string base64url(std::string_view data) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += table[(v >> s) & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace flocker::flock
