// flocker-proxy: many Docker engines behind one Docker endpoint.
//   flocker-proxy --listen tcp://127.0.0.1:2375 --decider 127.0.0.1:7070     (a flock)
//   flocker-proxy --listen tcp://127.0.0.1:2375 --engine unix:///var/run/docker.sock  (one engine)
//   flocker-proxy --config /etc/flocker/proxy.conf         (the same keys from a file: proxy_config.h)
// Here only the wiring: logging, the handlers, the server, signals.
#include <signal.h>

#include <thread>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <iostream>

#include <flocker/sdk/metrics_server.h>

#include "docker/single_engine_handler.h"
#include "flock/control/control_plane.h"
#include "flock/routes/flock_handler.h"
#include "flock/routes/guard_handler.h"
#include "proxy_config.h"
#include "transport/server.h"

using namespace flocker;

namespace {

void setup_logging(spdlog::level::level_enum level, bool access_log) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto main_logger = std::make_shared<spdlog::logger>("flocker", sink);
  auto access = std::make_shared<spdlog::logger>("access", sink);
  for (auto& l : {main_logger, access}) {
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
    l->set_level(level);
  }
  if (!access_log) access->set_level(spdlog::level::off);
  spdlog::register_logger(access);
  spdlog::set_default_logger(main_logger);
}

}  // namespace

int main(int argc, char** argv) {
  // The flags (and --config FILE) as one validated configuration: proxy_config.h.
  const ParseResult parsed = parse_proxy_config(argc, argv);
  switch (parsed.outcome) {
    case ParseResult::Outcome::kExit:
      std::cout << parsed.text;
      return 0;
    case ParseResult::Outcome::kUsageError:
      return report_usage_error(parsed.text);
    case ParseResult::Outcome::kRun:
      break;
  }
  const ProxyConfig& config = parsed.config;
  setup_logging(config.log_level, config.access_log);
  for (const auto& warning : config.warnings) spdlog::warn("{}", warning);
  if (!config.config_file.empty()) spdlog::info("configuration from {} (and the command line)", config.config_file);
  const auto& flock_options = config.flock;
  const auto& guard = config.guard;

  std::unique_ptr<transport::Handler> inner;
  std::unique_ptr<flock::Flock> the_flock;
  std::unique_ptr<flock::ControlPlane> control;
  std::unique_ptr<flock::DeciderClient> authorizer;  // --engine with --authorize
  flock::DeciderClient* decider = nullptr;
  if (!config.engine.empty()) {
    try {
      auto address = transport::resolve_address(config.engine);
      flock::EngineTls(config.engine_tls).apply(address, nullptr);
      inner = std::make_unique<docker::SingleEngineHandler>(std::move(address), flock_options.answer_timeout);
    } catch (const std::exception& e) {
      return report_usage_error("--engine: " + std::string(e.what()));
    }
    if (guard.authorize) {
      authorizer = std::make_unique<flock::DeciderClient>(flock_options.decider);
      decider = authorizer.get();
    }
  } else {
    the_flock = std::make_unique<flock::Flock>(flock_options);
    control = std::make_unique<flock::ControlPlane>(*the_flock, config.server.pool);
    inner = std::make_unique<flock::FlockHandler>(*the_flock);
    decider = &the_flock->decider;
  }
  auto handler = std::make_unique<flock::GuardHandler>(*inner, guard, decider);
  if (auto* flock_handler = dynamic_cast<flock::FlockHandler*>(inner.get())) flock_handler->set_guard(handler.get());
  if (guard.authorize) spdlog::info("every request is authorized by the decider's Authorize (fail-closed)");
  if (guard.policy.read_only) spdlog::info("read-only: only GET and HEAD requests are served");

  ::signal(SIGPIPE, SIG_IGN);
  transport::Server server(config.server, *handler);
  // Prometheus scrapes /metrics on listeners of their own (docs/metrics.md), from a thread of
  // their own. (Declared after the flock, whose collectors it calls: it stops first.)
  metrics::MetricsServer metrics_server(config.metrics_listen);
  if (control) control->watch_requests(server);
  if (the_flock && the_flock->coordination) {  // before the first request: names go through etcd
    the_flock->coordination->start([c = control.get()] { c->refresh_inventory_now(); });
  }
  try {
    if (!config.metrics_listen.empty()) metrics_server.start();
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  if (control) {
    control->start();
    spdlog::info("flock '{}': the decider at {} places work ({} ms deadline, {} when it is down)",
                 flock_options.name, flock_options.decider.address,
                 flock_options.decider.timeout.count(),
                 flock_options.on_decider_failure == flock::DeciderFailure::kFail ? "fail-closed"
                                                                                 : "round-robin");
  } else {
    spdlog::info("single-engine mode: every request goes to {}", config.engine);
  }

  // Signals are handled on a thread of their own: SIGINT/SIGTERM start a graceful shutdown; a
  // second one ends the grace period at once (and any later one again). The main thread
  // only waits for the workers, and is the only one that joins them.
  boost::asio::io_context signals_ctx;
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  int received = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (++received == 1) {
          spdlog::info("{}: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
          server.shutdown();
        } else {
          spdlog::warn("second signal: closing every connection now");
          for (std::size_t i = 0; i < server.worker_count(); ++i) {
            auto& w = server.worker(i);
            boost::asio::post(w.context(), [&w] { w.close_everything(); });
          }
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  std::thread signal_thread([&] { signals_ctx.run(); });
  server.wait();
  signals_ctx.stop();
  signal_thread.join();
  if (the_flock && the_flock->coordination) the_flock->coordination->stop();
  if (control) control->stop();
  spdlog::info("stopped");
  return 0;
}
