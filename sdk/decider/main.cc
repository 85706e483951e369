// flocker-decider: the reference round-robin decider.
//   flocker-decider --listen 127.0.0.1:7070 --hosts tcp://127.0.0.1:2376,tcp://127.0.0.1:2377
//   flocker-decider --hosts-file hosts.txt      (re-read on SIGHUP)
//   flocker-decider --hosts-etcd /flocker/hosts/ --etcd etcd://127.0.0.1:2379   (a watch)
#include <flocker/sdk/etcd.h>
#include <flocker/sdk/server.h>
#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
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
    ("hosts-etcd", po::value<std::string>(),
     "PREFIX: the engines are etcd's keys PREFIX<NAME> = 'ADDRESS [KEY=VALUE...]', followed "
     "through a watch (needs --etcd)")
    ("etcd", po::value<std::string>(), "etcd://HOST:PORT[,HOST:PORT...] for --hosts-etcd")
    ("etcd-tls-ca", po::value<std::string>(), "TLS to etcd: the CA of the members' certificates")
    ("etcd-tls-cert", po::value<std::string>(), "mutual TLS to etcd: the decider's certificate")
    ("etcd-tls-key", po::value<std::string>(), "its key")
    ("coordination-prefix", po::value<std::string>()->default_value("/flocker/"),
     "with --hosts-etcd: each change moves PREFIX/inventory/generation, which proxies run with "
     "--coordination watch to ask List again at once (same value as theirs)")
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
  if (vm.count("hosts") + vm.count("hosts-file") + vm.count("hosts-etcd") != 1) {
    return usage_error("give exactly one of --hosts, --hosts-file and --hosts-etcd");
  }
  if (vm.count("hosts-etcd") != vm.count("etcd")) return usage_error("--hosts-etcd and --etcd go together");
  etcd::Options etcd_options;
  if (vm.count("etcd")) {
    try {
      etcd_options.endpoints = etcd::parse_endpoints(vm["etcd"].as<std::string>());
      if (vm.count("etcd-tls-ca") || vm.count("etcd-tls-cert")) {
        etcd_options.tls = true;
        if (vm.count("etcd-tls-ca")) etcd_options.ca_pem = read_file(vm["etcd-tls-ca"].as<std::string>());
        if (vm.count("etcd-tls-cert")) etcd_options.cert_pem = read_file(vm["etcd-tls-cert"].as<std::string>());
        if (vm.count("etcd-tls-key")) etcd_options.key_pem = read_file(vm["etcd-tls-key"].as<std::string>());
        if (etcd_options.cert_pem.empty() != etcd_options.key_pem.empty()) {
          return usage_error("--etcd-tls-cert and --etcd-tls-key go together");
        }
      }
    } catch (const std::exception& e) {
      return usage_error(std::string("--etcd: ") + e.what());
    }
  }
  const double drain = vm["drain"].as<double>();
  if (drain < 0) return usage_error("--drain must not be negative");

  std::vector<decider::HostEntry> hosts;
  const std::string hosts_file = vm.count("hosts-file") ? vm["hosts-file"].as<std::string>() : "";
  try {
    if (vm.count("hosts")) hosts = decider::parse_hosts_flag(vm["hosts"].as<std::string>());
    if (!hosts_file.empty()) hosts = decider::load_hosts_file(hosts_file);
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
  // --hosts-etcd: the inventory follows etcd. Round-robin positions stay per decider
  // replica (docs/coordination.md).
  std::unique_ptr<etcd::Client> etcd_client;
  std::unique_ptr<etcd::Mirror> hosts_mirror;
  if (vm.count("hosts-etcd")) {
    const std::string prefix = vm["hosts-etcd"].as<std::string>();
    std::string generation_key = vm["coordination-prefix"].as<std::string>();
    if (generation_key.empty() || generation_key.back() != '/') generation_key += '/';
    generation_key += "inventory/generation";
    etcd_client = std::make_unique<etcd::Client>(etcd_options);
    hosts_mirror = std::make_unique<etcd::Mirror>(
        *etcd_client, prefix,
        [&rr, &etcd_client, prefix, generation_key, last = std::optional<std::vector<decider::HostEntry>>()](
            const std::map<std::string, std::string>& keys) mutable {
          std::vector<std::string> problems;
          auto now = decider::hosts_from_etcd(keys, prefix, problems);
          for (const auto& p : problems) spdlog::warn("{}: left out", p);
          if (last && *last == now) return;
          last = now;
          rr.set_hosts(std::move(now));
          spdlog::info("{} hosts in the inventory (etcd {})", rr.hosts()->size(), prefix);
          // Proxies with --coordination ask List again at once.
          const auto stamp = std::chrono::system_clock::now().time_since_epoch().count();
          auto status = etcd_client->put(generation_key, std::to_string(stamp));
          if (!status.ok()) spdlog::warn("cannot move {} ({})", generation_key, status.error_message());
        });
  }
  return sdk::serve(rr, options);
}
