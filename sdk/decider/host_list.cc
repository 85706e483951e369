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

}  // namespace flocker::decider
