#include "host_list.h"

#include <flocker/sdk/address.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace flocker::decider {
namespace {

std::string canonical_address(std::string_view text, const std::string& where) {
  std::string error;
  auto addr = sdk::parse_docker_address(text, &error);
  if (!addr) throw HostListError(where + error);
  return addr->str();
}

std::string default_name(const std::string& canonical) {
  return canonical.substr(canonical.find("://") + 3);
}

void check_unique(const std::vector<HostEntry>& hosts, const std::string& where) {
  std::set<std::string> seen;
  for (const auto& h : hosts) {
    if (!seen.insert(h.name).second) throw HostListError(where + "host name '" + h.name + "' repeats");
  }
}

}  // namespace

std::vector<HostEntry> parse_hosts_flag(std::string_view csv) {
  std::vector<HostEntry> hosts;
  while (!csv.empty()) {
    auto comma = csv.find(',');
    std::string_view item = csv.substr(0, comma);
    csv = comma == std::string_view::npos ? std::string_view() : csv.substr(comma + 1);
    if (item.empty()) continue;
    HostEntry h;
    h.address = canonical_address(item, "--hosts: ");
    h.name = default_name(h.address);
    hosts.push_back(std::move(h));
  }
  if (hosts.empty()) throw HostListError("--hosts: no host given");
  check_unique(hosts, "--hosts: ");
  return hosts;
}

std::vector<HostEntry> parse_hosts_file(std::string_view text, std::string_view origin) {
  std::vector<HostEntry> hosts;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = std::string(origin) + ":" + std::to_string(number) + ": ";
    std::istringstream words(line);
    std::string word;
    if (!(words >> word) || word.starts_with("#")) continue;
    HostEntry h;
    h.address = canonical_address(word, where);
    h.name = default_name(h.address);
    bool named = false;
    while (words >> word) {
      if (word.starts_with("#")) break;  // trailing comment
      auto eq = word.find('=');
      if (eq == std::string::npos) {
        if (named) throw HostListError(where + "two names ('" + h.name + "', '" + word + "')");
        h.name = word, named = true;
      } else if (eq == 0) {
        throw HostListError(where + "label '" + word + "' has no key");
      } else {
        h.labels[word.substr(0, eq)] = word.substr(eq + 1);
      }
    }
    hosts.push_back(std::move(h));
  }
  check_unique(hosts, std::string(origin) + ": ");
  return hosts;
}

std::vector<HostEntry> load_hosts_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw HostListError("cannot read hosts file " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  return parse_hosts_file(text.str(), path);
}

std::vector<HostEntry> hosts_from_etcd(const std::map<std::string, std::string>& keys, std::string_view prefix,
                                       std::vector<std::string>& problems) {
  std::vector<HostEntry> hosts;
  for (const auto& [key, value] : keys) {
    std::string_view name(key);
    if (name.substr(0, prefix.size()) == prefix) name.remove_prefix(prefix.size());
    const std::string origin = "etcd key " + key;
    if (name.empty() || name.find_first_of(" \t\r\n#=") != std::string_view::npos) {
      problems.push_back(origin + ": '" + std::string(name) + "' cannot be a host's name");
      continue;
    }
    std::istringstream words(value);
    std::string address;
    if (!(words >> address) || address.starts_with("#")) {
      problems.push_back(origin + ": no address");
      continue;
    }
    // The hosts file's syntax, with the key's last part as the name.
    std::string line = address + " " + std::string(name);
    for (std::string word; words >> word;) {
      if (word.find('=') == std::string::npos) {
        line.clear();
        problems.push_back(origin + ": '" + word + "' is not KEY=VALUE");
        break;
      }
      line += " " + word;
    }
    if (line.empty()) continue;
    try {
      for (auto& h : parse_hosts_file(line, origin)) hosts.push_back(std::move(h));
    } catch (const HostListError& e) {
      problems.push_back(e.what());
    }
  }
  return hosts;
}

}  // namespace flocker::decider
