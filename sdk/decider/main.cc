// flocker-decider: the reference round-robin decider.
//   flocker-decider --listen 127.0.0.1:7070 --hosts tcp://127.0.0.1:2376,tcp://127.0.0.1:2377
//   flocker-decider --hosts-file hosts.txt      (re-read on SIGHUP)
#include <flocker/sdk/server.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "host_list.h"
#include "round_robin_decider.h"

namespace po = boost::program_options;
using namespace flocker;

namespace {

int usage_error(const std::string& message) {
  std::cerr << "flocker-decider: " << message << "\n(try --help)\n";
  return 2;
}

}  // namespace

namespace {
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

int main(int argc, char** argv) {
  po::options_description desc("flocker-decider: the reference decider (Swarm classic's rules, then a strategy)\nOptions");
  desc.add_options()
    ("help,h", "show this help")
    ("listen", po::value<std::string>()->default_value("127.0.0.1:7070"),
     "gRPC listen address (HOST:PORT, or unix:PATH)")
    ("hosts", po::value<std::string>(), "engines, comma separated (tcp://H:P, unix:///path)")
    ("hosts-file", po::value<std::string>(),
     "file with one engine per line: ADDRESS [NAME] [KEY=VALUE...]; re-read on SIGHUP")
    ("pull", po::value<std::string>()->default_value("all"),
     "a pull without a pinned host goes to 'all' healthy hosts, or 'one' (round-robin)")
    ("strategy", po::value<std::string>()->default_value("round-robin"),
     "how a host is picked among those the rules leave: round-robin, spread (fewest "
     "containers), binpack (most CPU and memory reserved), random")
    ("drain", po::value<double>()->default_value(5), "seconds to drain calls on shutdown")
    ("deny", po::value<std::string>()->default_value(""),
     "Authorize: endpoint classes to refuse (exec,build,...); everything else is allowed")
    ("tls-cert", po::value<std::string>(), "serve TLS with this certificate (PEM file)")
    ("tls-key", po::value<std::string>(), "its key")
    ("tls-ca", po::value<std::string>(), "with --tls-cert: the proxy must present a certificate this CA signed")
    ("metrics-listen", po::value<std::string>(),
     "where Prometheus scrapes GET /metrics (tcp://HOST:PORT): calls, latency, decisions by "
     "kind and host")
    ("log-level", po::value<std::string>()->default_value("info"),
     "trace, debug, info, warn, error");

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(e.what());
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  auto level = spdlog::level::from_str(vm["log-level"].as<std::string>());
  if (level == spdlog::level::off && vm["log-level"].as<std::string>() != "off") {
    return usage_error("unknown --log-level '" + vm["log-level"].as<std::string>() + "'");
  }
  spdlog::set_level(level);

  const std::string pull = vm["pull"].as<std::string>();
  if (pull != "all" && pull != "one") return usage_error("--pull must be 'all' or 'one'");
  const auto strategy = decider::strategy_from_name(vm["strategy"].as<std::string>());
  if (!strategy) return usage_error("--strategy must be round-robin, spread, binpack or random");
  if (vm.count("hosts") == vm.count("hosts-file")) {
    return usage_error("give exactly one of --hosts and --hosts-file");
  }
  const double drain = vm["drain"].as<double>();
  if (drain < 0) return usage_error("--drain must not be negative");

  std::vector<decider::HostEntry> hosts;
  const std::string hosts_file = vm.count("hosts-file") ? vm["hosts-file"].as<std::string>() : "";
  try {
    hosts = hosts_file.empty() ? decider::parse_hosts_flag(vm["hosts"].as<std::string>())
                               : decider::load_hosts_file(hosts_file);
  } catch (const decider::HostListError& e) {
    return usage_error(e.what());
  }

  decider::RoundRobinDecider rr(std::move(hosts),
                                pull == "one" ? decider::PullPlacement::kOne
                                              : decider::PullPlacement::kAll,
                                *strategy);
  spdlog::info("{} hosts in the inventory", rr.hosts()->size());

  std::set<std::string> denied;
  {
    std::stringstream list(vm["deny"].as<std::string>());
    for (std::string item; std::getline(list, item, ',');) {
      if (!item.empty()) denied.insert(item);
    }
  }
  rr.deny_classes(denied);

  sdk::ServeOptions options;
  options.listen = vm["listen"].as<std::string>();
  try {
    if (vm.count("tls-cert") != vm.count("tls-key")) return usage_error("--tls-cert and --tls-key go together");
    if (vm.count("tls-ca") && !vm.count("tls-cert")) return usage_error("--tls-ca needs --tls-cert");
    if (vm.count("tls-cert")) {
      options.tls.cert_pem = read_file(vm["tls-cert"].as<std::string>());
      options.tls.key_pem = read_file(vm["tls-key"].as<std::string>());
      if (vm.count("tls-ca")) options.tls.client_ca_pem = read_file(vm["tls-ca"].as<std::string>());
    }
  } catch (const std::exception& e) {
    return usage_error(e.what());
  }
  if (vm.count("metrics-listen")) options.metrics_listen = vm["metrics-listen"].as<std::string>();
  options.drain = std::chrono::milliseconds(static_cast<int64_t>(drain * 1000));
  if (!hosts_file.empty()) {
    options.on_reload = [&] {
      try {
        rr.set_hosts(decider::load_hosts_file(hosts_file));
        spdlog::info("reloaded {}: {} hosts", hosts_file, rr.hosts()->size());
      } catch (const decider::HostListError& e) {
        spdlog::error("reload failed, keeping the previous hosts: {}", e.what());
      }
    };
  }
  return sdk::serve(rr, options);
}
