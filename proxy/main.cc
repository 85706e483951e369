// flocker-proxy: many Docker engines behind one Docker endpoint.
//   flocker-proxy --listen tcp://127.0.0.1:2375 --decider 127.0.0.1:7070     (a flock)
//   flocker-proxy --listen tcp://127.0.0.1:2375 --engine unix:///var/run/docker.sock  (one engine)
#include <signal.h>

#include <thread>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "docker/single_engine_handler.h"
#include "flock/control_plane.h"
#include "flock/flock_handler.h"
#include "flock/guard_handler.h"
#include "transport/server.h"

namespace po = boost::program_options;
using namespace flocker;

namespace {

int usage_error(const std::string& message) {
  std::cerr << "flocker-proxy: " << message << "\n(try --help)\n";
  return 2;
}

std::chrono::milliseconds seconds_flag(const po::variables_map& vm, const char* name) {
  double s = vm[name].as<double>();
  if (s < 0) throw po::error(std::string("--") + name + " must not be negative");
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

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

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description desc("flocker-proxy: many Docker engines behind one Docker endpoint\nOptions");
  desc.add_options()
    ("help,h", "show this help")
    ("listen", po::value<std::vector<std::string>>(),
     "where clients connect, repeatable: tcp://HOST:PORT or unix:///path "
     "(default tcp://127.0.0.1:2375)")
    ("decider", po::value<std::string>(), "the decider's gRPC address (HOST:PORT): a flock")
    ("decider-timeout", po::value<double>()->default_value(1), "seconds each decider call may take")
    ("decider-failure", po::value<std::string>()->default_value("fail"),
     "when the decider is down: 'fail' creates, pulls and builds (503), or place them "
     "'round-robin'")
    ("name", po::value<std::string>()->default_value("flocker"), "the flock's Name in docker info")
    ("inventory-refresh", po::value<double>()->default_value(30), "seconds between List calls")
    ("health-interval", po::value<double>()->default_value(2), "seconds between engine checks")
    ("engine-timeout", po::value<double>()->default_value(5),
     "seconds the proxy's own calls to an engine may take (health checks, listings)")
    ("engine-answer-timeout", po::value<double>()->default_value(60),
     "seconds an engine may take to start answering a client's request (not for pulls, "
     "builds, waits and others that answer after their work; 0: no limit)")
    ("pin-ttl", po::value<double>()->default_value(120),
     "seconds a pull stays pinned to the host where `docker run`'s create found no image")
    ("engine", po::value<std::string>(), "single-engine mode: send everything to this engine")
    ("threads", po::value<unsigned>()->default_value(0), "I/O threads (0: one per core)")
    ("unix-socket-mode", po::value<std::string>()->default_value("0660"), "mode of unix sockets")
    ("unix-socket-group", po::value<std::string>()->default_value(""), "group of unix sockets")
    ("grace", po::value<double>()->default_value(10),
     "seconds open streams may go on after SIGTERM")
    ("connect-timeout", po::value<double>()->default_value(3), "seconds to connect to an engine")
    ("upstream-idle-timeout", po::value<double>()->default_value(30),
     "seconds an idle pooled engine connection is kept")
    ("max-header-bytes", po::value<std::size_t>()->default_value(64 * 1024),
     "largest request header accepted (larger: 431)")
    ("log-level", po::value<std::string>()->default_value("info"),
     "trace, debug, info, warn, error, off")
    ("access-log", po::value<std::string>()->default_value("on"), "one line per request: on|off")
    ("client-idle-timeout", po::value<double>()->default_value(300),
     "seconds a client connection may wait between requests (0: forever)")
    // Front TLS, as dockerd's --tlsverify --tlscacert --tlscert --tlskey.
    ("tls-cert", po::value<std::string>(), "TLS on tcp listeners: the proxy's certificate (PEM file)")
    ("tls-key", po::value<std::string>(), "TLS on tcp listeners: its key")
    ("tls-ca", po::value<std::string>(),
     "with --tls-cert: clients must present a certificate this CA signed")
    ("engine-tls", po::bool_switch(), "TLS to engines whose List entry has no TLS settings (system CAs)")
    ("engine-tls-ca", po::value<std::string>(), "CA of the engines' certificates (implies --engine-tls)")
    ("engine-tls-cert", po::value<std::string>(), "client certificate for the engines (implies --engine-tls)")
    ("engine-tls-key", po::value<std::string>(), "its key")
    ("decider-tls-ca", po::value<std::string>(), "TLS to the decider: the CA of its certificate")
    ("decider-tls-cert", po::value<std::string>(), "mutual TLS to the decider: the proxy's certificate")
    ("decider-tls-key", po::value<std::string>(), "its key")
    ("decider-tls-server-name", po::value<std::string>(), "name expected in the decider's certificate")
    // Access control: docs/security.md.
    ("authorize", po::bool_switch(), "ask the decider's Authorize about every request (fail-closed)")
    ("authorize-body-limit", po::value<std::size_t>()->default_value(1 << 20),
     "largest request body buffered to be checked; larger ones are refused (413)")
    ("read-only", po::bool_switch(), "refuse every request but GET and HEAD")
    ("deny", po::value<std::string>()->default_value(""),
     "endpoint classes to refuse: containers,images,exec,build,volumes,networks,system,events,other")
    ("allow-host-access", po::value<std::string>()->default_value(""),
     "what containers may get from a host (refused by default): privileged,host-namespaces,"
     "cap-add,host-mounts,devices,unconfined, or all");

  transport::ServerOptions options;
  flock::FlockOptions flock_options;
  flock::GuardOptions guard;
  std::string engine;
  flock::EngineTlsDefaults engine_tls;  // --engine-tls*: the single engine, or flock hosts without TLS settings
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    const auto level_name = vm["log-level"].as<std::string>();
    auto level = spdlog::level::from_str(level_name);
    if (level == spdlog::level::off && level_name != "off") {
      return usage_error("unknown --log-level '" + level_name + "'");
    }
    const auto access = vm["access-log"].as<std::string>();
    if (access != "on" && access != "off") return usage_error("--access-log must be on or off");
    setup_logging(level, access == "on");

    options.listen = vm.count("listen") ? vm["listen"].as<std::vector<std::string>>()
                                        : std::vector<std::string>{"tcp://127.0.0.1:2375"};
    options.threads = vm["threads"].as<unsigned>();
    options.unix_mode = std::stoul(vm["unix-socket-mode"].as<std::string>(), nullptr, 8);
    options.unix_group = vm["unix-socket-group"].as<std::string>();
    options.grace = seconds_flag(vm, "grace");
    options.pool.connect_timeout = seconds_flag(vm, "connect-timeout");
    options.pool.idle_timeout = seconds_flag(vm, "upstream-idle-timeout");
    options.session.max_header_bytes = vm["max-header-bytes"].as<std::size_t>();
    options.session.idle_timeout = seconds_flag(vm, "client-idle-timeout");
    if (vm.count("tls-cert") || vm.count("tls-key") || vm.count("tls-ca")) {
      if (!vm.count("tls-cert") || !vm.count("tls-key")) return usage_error("--tls-cert and --tls-key go together");
      transport::TlsMaterial front;
      front.cert_file = vm["tls-cert"].as<std::string>();
      front.key_file = vm["tls-key"].as<std::string>();
      if (vm.count("tls-ca")) front.ca_file = vm["tls-ca"].as<std::string>();
      options.tls = transport::TlsContext::server(front);
      if (!vm.count("tls-ca")) spdlog::warn("TLS without --tls-ca: any client may connect (no client certificates)");
    }
    auto& engine_files = engine_tls.material;
    if (vm.count("engine-tls-ca")) engine_files.ca_file = vm["engine-tls-ca"].as<std::string>();
    if (vm.count("engine-tls-cert")) engine_files.cert_file = vm["engine-tls-cert"].as<std::string>();
    if (vm.count("engine-tls-key")) engine_files.key_file = vm["engine-tls-key"].as<std::string>();
    engine_tls.enabled = vm["engine-tls"].as<bool>() || !engine_files.empty();
    if (engine_tls.enabled) transport::TlsContext::client(engine_files);  // fail now on a bad file

    guard.authorize = vm["authorize"].as<bool>();
    guard.body_limit = vm["authorize-body-limit"].as<std::size_t>();
    guard.policy.read_only = vm["read-only"].as<bool>();
    guard.policy.allow = docker::parse_host_access(vm["allow-host-access"].as<std::string>());
    for (const auto& name : split_list(vm["deny"].as<std::string>())) {
      auto cls = docker::class_from_name(name);
      if (!cls) return usage_error("--deny: unknown endpoint class '" + name + "'");
      guard.policy.denied.insert(*cls);
    }
    if (vm.count("engine") && vm.count("decider") && !guard.authorize) {
      return usage_error("give --decider (a flock) or --engine (one engine); both only with --authorize");
    }
    if (!vm.count("engine") && !vm.count("decider")) {
      return usage_error("give --decider (a flock) or --engine (one engine)");
    }
    if (guard.authorize && !vm.count("decider")) return usage_error("--authorize needs --decider");
    if (vm.count("engine")) engine = vm["engine"].as<std::string>();
    flock_options.engine_timeout = seconds_flag(vm, "engine-timeout");
    flock_options.answer_timeout = seconds_flag(vm, "engine-answer-timeout");
    if (flock_options.engine_timeout.count() < 100) return usage_error("--engine-timeout is too short");
    if (vm.count("decider")) {
      flock_options.decider.address = vm["decider"].as<std::string>();
      if (vm.count("decider-tls-ca") || vm.count("decider-tls-cert")) {
        auto& d = flock_options.decider;
        d.tls = true;
        if (vm.count("decider-tls-ca")) d.tls_ca_pem = read_file(vm["decider-tls-ca"].as<std::string>());
        if (vm.count("decider-tls-cert")) d.tls_cert_pem = read_file(vm["decider-tls-cert"].as<std::string>());
        if (vm.count("decider-tls-key")) d.tls_key_pem = read_file(vm["decider-tls-key"].as<std::string>());
        if (vm.count("decider-tls-server-name")) d.tls_server_name = vm["decider-tls-server-name"].as<std::string>();
        if (d.tls_cert_pem.empty() != d.tls_key_pem.empty()) {
          return usage_error("--decider-tls-cert and --decider-tls-key go together");
        }
      }
      flock_options.decider.timeout = seconds_flag(vm, "decider-timeout");
      const auto failure = vm["decider-failure"].as<std::string>();
      if (failure != "fail" && failure != "round-robin") {
        return usage_error("--decider-failure must be 'fail' or 'round-robin'");
      }
      flock_options.on_decider_failure =
          failure == "fail" ? flock::DeciderFailure::kFail : flock::DeciderFailure::kRoundRobin;
      flock_options.name = vm["name"].as<std::string>();
      flock_options.proxy_name = flock_options.name;
      flock_options.inventory_refresh = seconds_flag(vm, "inventory-refresh");
      flock_options.health_interval = seconds_flag(vm, "health-interval");
      flock_options.pin_ttl = std::chrono::seconds(static_cast<int64_t>(seconds_flag(vm, "pin-ttl").count() / 1000));
      if (flock_options.health_interval.count() < 100) return usage_error("--health-interval is too short");
      flock_options.engine_tls = engine_tls;
    }
  } catch (const std::exception& e) {
    return usage_error(e.what());
  }

  std::unique_ptr<transport::Handler> inner;
  std::unique_ptr<flock::Flock> the_flock;
  std::unique_ptr<flock::ControlPlane> control;
  std::unique_ptr<flock::DeciderClient> authorizer;  // --engine with --authorize
  flock::DeciderClient* decider = nullptr;
  if (!engine.empty()) {
    try {
      auto address = transport::resolve_address(engine);
      flock::EngineTls(engine_tls).apply(address, nullptr);
      inner = std::make_unique<docker::SingleEngineHandler>(std::move(address), flock_options.answer_timeout);
    } catch (const std::exception& e) {
      return usage_error("--engine: " + std::string(e.what()));
    }
    if (guard.authorize) {
      authorizer = std::make_unique<flock::DeciderClient>(flock_options.decider);
      decider = authorizer.get();
    }
  } else {
    the_flock = std::make_unique<flock::Flock>(flock_options);
    control = std::make_unique<flock::ControlPlane>(*the_flock, options.pool);
    inner = std::make_unique<flock::FlockHandler>(*the_flock);
    decider = &the_flock->decider;
  }
  auto handler = std::make_unique<flock::GuardHandler>(*inner, guard, decider);
  if (auto* flock_handler = dynamic_cast<flock::FlockHandler*>(inner.get())) flock_handler->set_guard(handler.get());
  if (guard.authorize) spdlog::info("every request is authorized by the decider's Authorize (fail-closed)");
  if (guard.policy.read_only) spdlog::info("read-only: only GET and HEAD requests are served");

  ::signal(SIGPIPE, SIG_IGN);
  transport::Server server(options, *handler);
  if (control) control->watch_requests(server);
  try {
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
    spdlog::info("single-engine mode: every request goes to {}", engine);
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
  if (control) control->stop();
  spdlog::info("stopped");
  return 0;
}
