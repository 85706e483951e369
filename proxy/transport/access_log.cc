#include "access_log.h"

#include <spdlog/spdlog.h>

namespace flocker::transport {

void log_access(Exchange& ex) {
  static const auto logger = [] {
    auto l = spdlog::get("access");
    return l ? l : spdlog::default_logger();
  }();
  if (!logger->should_log(spdlog::level::info)) return;
  const auto& r = ex.record();
  const auto& req = ex.request();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ex.started())
          .count();
  logger->info("{} {} {}{} in={} out={} {:.2f}ms engine={} id={} peer={}{}{}",
               std::string_view(req.method_string()), std::string_view(req.target()), r.status,
               r.hijacked ? " hijacked" : (r.client_gone ? " client-gone" : ""), r.bytes_in,
               r.bytes_out, ms, r.upstream.empty() ? "-" : r.upstream, ex.request_id(),
               ex.peer().address, ex.peer().tls_subject.empty() ? "" : " subject=",
               ex.peer().tls_subject);
}

}  // namespace flocker::transport
