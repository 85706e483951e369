#include "proxy_config.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <flocker/sdk/etcd.h>

#include "docker/multihost.h"
#include "docker/policy.h"
#include "flocker/v1/decider.pb.h"
#include "flocker_version.h"

namespace flocker {
namespace {

namespace po = boost::program_options;

// A message for the user as is (as every other exception's what() is).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Keys only the command line takes.
bool command_line_only(const std::string& key) {
  return key == "help" || key == "version" || key == "config";
}

po::options_description proxy_options() {
  po::options_description desc("flocker-proxy: many Docker engines behind one Docker endpoint\nOptions");
  desc.add_options()
    ("help,h", "show this help")
    ("version", "print the version (and the decider API) and exit")
    ("config", po::value<std::string>(),
     "read flags from this file: `key = value` a line, the keys of the long flags "
     "(docs/configuration.md); a flag given here wins over the file")
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
    ("network-pool", po::value<std::string>(),
     "multi-host networks created without a subnet get one from this IPv4 range (CIDR), "
     "as swarm's --default-addr-pool; unset: the engine's own choice")
    ("network-pool-size", po::value<unsigned>()->default_value(24),
     "the prefix length of each subnet taken from --network-pool")
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
    ("metrics-listen", po::value<std::vector<std::string>>(),
     "where Prometheus scrapes /metrics, repeatable: tcp://HOST:PORT (never the Docker API "
     "port); off by default")
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
    ("coordination", po::value<std::string>(),
     "etcd://HOST:PORT[,HOST:PORT...]: several proxies of one flock share names, pull pins and the "
     "inventory's generation through this etcd cluster")
    ("coordination-prefix", po::value<std::string>()->default_value("/flocker/"), "where in etcd")
    ("coordination-ttl", po::value<double>()->default_value(10),
     "seconds: the proxy's etcd lease; a dead proxy's reservations last no longer")
    ("coordination-timeout", po::value<double>()->default_value(2), "seconds each etcd call may take")
    ("coordination-tls-ca", po::value<std::string>(), "TLS to etcd: the CA of the members' certificates")
    ("coordination-tls-cert", po::value<std::string>(), "mutual TLS to etcd: the proxy's certificate")
    ("coordination-tls-key", po::value<std::string>(), "its key")
    ("coordination-tls-server-name", po::value<std::string>(), "name expected in the members' certificates")
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
  return desc;
}

std::string version_text() {
  return std::string("flocker-proxy ") + FLOCKER_VERSION + "\n" +
         "decider API: " + v1::Host::descriptor()->file()->package() + "\n";
}

std::chrono::milliseconds seconds_flag(const po::variables_map& vm, const char* name) {
  double s = vm[name].as<double>();
  if (s < 0) throw po::error(std::string("--") + name + " must not be negative");
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// --coordination and its TLS and timing flags.
flock::CoordinationOptions coordination_options(const po::variables_map& vm) {
  flock::CoordinationOptions c;
  try {
    c.etcd.endpoints = etcd::parse_endpoints(vm["coordination"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--coordination: ") + e.what());
  }
  c.etcd.timeout = seconds_flag(vm, "coordination-timeout");
  if (c.etcd.timeout.count() < 100) throw UsageError("--coordination-timeout is too short");
  const auto ttl = seconds_flag(vm, "coordination-ttl");
  if (ttl < std::chrono::seconds(2)) throw UsageError("--coordination-ttl must be at least 2 seconds");
  c.ttl = std::chrono::duration_cast<std::chrono::seconds>(ttl);
  c.prefix = vm["coordination-prefix"].as<std::string>();
  if (c.prefix.empty() || c.prefix.back() != '/') c.prefix += '/';
  if (vm.count("coordination-tls-ca") || vm.count("coordination-tls-cert")) {
    c.etcd.tls = true;
    if (vm.count("coordination-tls-ca")) c.etcd.ca_pem = read_file(vm["coordination-tls-ca"].as<std::string>());
    if (vm.count("coordination-tls-cert")) c.etcd.cert_pem = read_file(vm["coordination-tls-cert"].as<std::string>());
    if (vm.count("coordination-tls-key")) c.etcd.key_pem = read_file(vm["coordination-tls-key"].as<std::string>());
    if (vm.count("coordination-tls-server-name")) {
      c.etcd.server_name = vm["coordination-tls-server-name"].as<std::string>();
    }
    if (c.etcd.cert_pem.empty() != c.etcd.key_pem.empty()) {
      throw UsageError("--coordination-tls-cert and --coordination-tls-key go together");
    }
  }
  return c;
}

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A --config file: `key = value` or `key value` a line, the long flags' names as keys; `#`
// starts a comment at the start of a line or after a space; repeatable keys may repeat;
// switches take true or false. Every value is checked here, so an error can name its line.
po::parsed_options read_config_file(const std::string& path, const po::options_description& desc) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw UsageError("--config: " + path + " is a directory");
  std::ifstream in(path);
  if (!in) throw UsageError("--config: cannot read " + path);
  po::parsed_options parsed(&desc);  // no option prefix style: errors name keys as the file has them
  std::map<std::string, int> line_of;
  int number = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++number;
    const std::string at = path + ":" + std::to_string(number) + ": ";
    std::string_view line = raw;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' && (i == 0 || is_space(line[i - 1]))) {
        line = line.substr(0, i);
        break;
      }
    }
    line = trim(line);
    if (line.empty()) continue;
    const auto key_end = line.find_first_of("= \t");
    const std::string key(line.substr(0, key_end));
    std::string_view rest = key_end == std::string_view::npos ? std::string_view() : trim(line.substr(key_end));
    const bool has_equals = !rest.empty() && rest.front() == '=';
    if (has_equals) rest = trim(rest.substr(1));
    const std::string value(rest);

    const auto* d = desc.find_nothrow(key, false);
    if (!d || d->long_name() != key) throw UsageError(at + "unknown key '" + key + "'");
    if (command_line_only(key)) throw UsageError(at + "'" + key + "' is for the command line only");
    if (!has_equals && value.empty()) throw UsageError(at + "'" + key + "' needs a value (" + key + " = VALUE)");
    if (d->semantic()->max_tokens() == 0 && value != "true" && value != "false") {
      throw UsageError(at + "'" + key + "' is true or false");
    }
    const bool repeatable =
        dynamic_cast<const po::typed_value<std::vector<std::string>>*>(d->semantic().get()) != nullptr;
    if (auto [first, fresh] = line_of.emplace(key, number); !fresh && !repeatable) {
      throw UsageError(at + "'" + key + "' again (first on line " + std::to_string(first->second) + ")");
    }
    po::option option(key, {value});
    option.original_tokens = {key, value};
    try {
      po::parsed_options alone(&desc);
      alone.options.push_back(option);
      po::variables_map scratch;
      po::store(alone, scratch);
    } catch (const po::error& e) {
      throw UsageError(at + e.what());
    }
    parsed.options.push_back(std::move(option));
  }
  if (in.bad()) throw UsageError("--config: cannot read " + path);
  return parsed;
}

// Everything but --help, --version and --config, validated. Throws with the user's message.
ProxyConfig config_from(const po::variables_map& vm) {
  ProxyConfig config;
  const auto level_name = vm["log-level"].as<std::string>();
  config.log_level = spdlog::level::from_str(level_name);
  if (config.log_level == spdlog::level::off && level_name != "off") {
    throw UsageError("unknown --log-level '" + level_name + "'");
  }
  const auto access = vm["access-log"].as<std::string>();
  if (access != "on" && access != "off") throw UsageError("--access-log must be on or off");
  config.access_log = access == "on";

  auto& options = config.server;
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
    if (!vm.count("tls-cert") || !vm.count("tls-key")) throw UsageError("--tls-cert and --tls-key go together");
    transport::TlsMaterial front;
    front.cert_file = vm["tls-cert"].as<std::string>();
    front.key_file = vm["tls-key"].as<std::string>();
    if (vm.count("tls-ca")) front.ca_file = vm["tls-ca"].as<std::string>();
    options.tls = transport::TlsContext::server(front);
    if (!vm.count("tls-ca")) config.warnings.push_back("TLS without --tls-ca: any client may connect (no client certificates)");
  }
  auto& engine_tls = config.engine_tls;
  auto& engine_files = engine_tls.material;
  if (vm.count("engine-tls-ca")) engine_files.ca_file = vm["engine-tls-ca"].as<std::string>();
  if (vm.count("engine-tls-cert")) engine_files.cert_file = vm["engine-tls-cert"].as<std::string>();
  if (vm.count("engine-tls-key")) engine_files.key_file = vm["engine-tls-key"].as<std::string>();
  engine_tls.enabled = vm["engine-tls"].as<bool>() || !engine_files.empty();
  if (engine_tls.enabled) transport::TlsContext::client(engine_files);  // fail now on a bad file

  auto& guard = config.guard;
  guard.authorize = vm["authorize"].as<bool>();
  guard.body_limit = vm["authorize-body-limit"].as<std::size_t>();
  guard.policy.read_only = vm["read-only"].as<bool>();
  guard.policy.allow = docker::parse_host_access(vm["allow-host-access"].as<std::string>());
  for (const auto& name : split_list(vm["deny"].as<std::string>())) {
    auto cls = docker::class_from_name(name);
    if (!cls) throw UsageError("--deny: unknown endpoint class '" + name + "'");
    guard.policy.denied.insert(*cls);
  }
  if (vm.count("engine") && vm.count("decider") && !guard.authorize) {
    throw UsageError("give --decider (a flock) or --engine (one engine); both only with --authorize");
  }
  if (!vm.count("engine") && !vm.count("decider")) {
    throw UsageError("give --decider (a flock) or --engine (one engine)");
  }
  if (guard.authorize && !vm.count("decider")) throw UsageError("--authorize needs --decider");
  if (vm.count("engine")) config.engine = vm["engine"].as<std::string>();
  auto& flock_options = config.flock;
  flock_options.engine_timeout = seconds_flag(vm, "engine-timeout");
  flock_options.answer_timeout = seconds_flag(vm, "engine-answer-timeout");
  if (flock_options.engine_timeout.count() < 100) throw UsageError("--engine-timeout is too short");
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
        throw UsageError("--decider-tls-cert and --decider-tls-key go together");
      }
    }
    flock_options.decider.timeout = seconds_flag(vm, "decider-timeout");
    const auto failure = vm["decider-failure"].as<std::string>();
    if (failure != "fail" && failure != "round-robin") {
      throw UsageError("--decider-failure must be 'fail' or 'round-robin'");
    }
    flock_options.on_decider_failure =
        failure == "fail" ? flock::DeciderFailure::kFail : flock::DeciderFailure::kRoundRobin;
    flock_options.name = vm["name"].as<std::string>();
    flock_options.proxy_name = flock_options.name;
    flock_options.proxy_instance = flock::draw_proxy_instance();  // per process, not a setting
    flock_options.inventory_refresh = seconds_flag(vm, "inventory-refresh");
    flock_options.health_interval = seconds_flag(vm, "health-interval");
    flock_options.pin_ttl = std::chrono::seconds(static_cast<int64_t>(seconds_flag(vm, "pin-ttl").count() / 1000));
    if (flock_options.health_interval.count() < 100) throw UsageError("--health-interval is too short");
    flock_options.engine_tls = engine_tls;
    if (vm.count("coordination")) {
      flock_options.coordination = coordination_options(vm);
      // A create sent to an engine may take this long: its placement outlives it.
      const auto answer = std::chrono::duration_cast<std::chrono::seconds>(flock_options.answer_timeout);
      flock_options.coordination->placement_ttl =
          (answer.count() > 0 ? answer : std::chrono::seconds(300)) + std::chrono::seconds(10);
    }
    flock_options.coordinated = flock_options.coordination.has_value();
    if (vm.count("network-pool")) {
      const auto pool = docker::parse_cidr(vm["network-pool"].as<std::string>());
      const unsigned size = vm["network-pool-size"].as<unsigned>();
      if (!pool) throw UsageError("--network-pool must be an IPv4 range as CIDR, e.g. 10.0.0.0/8");
      if (size < pool->prefix || size > 30) {
        throw UsageError("--network-pool-size must be between the pool's prefix length and 30");
      }
      flock_options.network_pool = *pool;
      flock_options.network_pool_size = size;
    }
  }

  if (vm.count("coordination") && !vm.count("decider")) throw UsageError("--coordination needs --decider (a flock)");

  if (vm.count("metrics-listen")) config.metrics_listen = vm["metrics-listen"].as<std::vector<std::string>>();
  for (const auto& address : config.metrics_listen) {
    if (address.empty()) throw UsageError("--metrics-listen must not be empty");
    for (const auto& listen : options.listen) {
      if (address == listen) {
        throw UsageError("--metrics-listen " + address + " is also a --listen address (metrics never share the Docker API port)");
      }
    }
  }
  return config;
}

}  // namespace

ParseResult parse_proxy_config(const std::vector<std::string>& args) {
  ParseResult result;
  try {
    const auto desc = proxy_options();
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    if (vm.count("help")) {
      std::ostringstream help;
      help << desc << "\n";
      result.outcome = ParseResult::Outcome::kExit;
      result.text = help.str();
      return result;
    }
    if (vm.count("version")) {
      result.outcome = ParseResult::Outcome::kExit;
      result.text = version_text();
      return result;
    }
    std::string config_file;
    if (vm.count("config")) {
      config_file = vm["config"].as<std::string>();
      // Stored after the command line: po::store keeps a key's first stored value, so a flag
      // wins, and the file's values of a key the command line gave are all dropped.
      po::store(read_config_file(config_file, desc), vm);
    }
    po::notify(vm);
    result.config = config_from(vm);
    result.config.config_file = config_file;
  } catch (const std::exception& e) {
    result.outcome = ParseResult::Outcome::kUsageError;
    result.text = e.what();
  }
  return result;
}

ParseResult parse_proxy_config(int argc, char** argv) {
  return parse_proxy_config(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
}

int report_usage_error(const std::string& message) {
  std::cerr << "flocker-proxy: " << message << "\n(try --help)\n";
  return 2;
}

}  // namespace flocker
