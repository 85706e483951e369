// The reference decider's inventory: hosts from --hosts or a hosts file.
//
// Hosts file: one host per line, `ADDRESS [NAME] [KEY=VALUE ...]`; blank lines and lines
// starting with '#' are ignored. ADDRESS is in docker -H syntax. NAME defaults to the
// address without its scheme (e.g. "127.0.0.1:2376"). Names must be unique.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flocker::decider {

struct HostEntry {
  std::string name;
  std::string address;  // canonical docker -H form
  std::map<std::string, std::string> labels;

  bool operator==(const HostEntry&) const = default;
};

// A bad --hosts value or hosts file; what() is a message for the user.
class HostListError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "tcp://a:1,unix:///b.sock" -> hosts with default names.
std::vector<HostEntry> parse_hosts_flag(std::string_view csv);

// The text of a hosts file; `origin` names it in error messages.
std::vector<HostEntry> parse_hosts_file(std::string_view text, std::string_view origin);

// Hosts kept in etcd (--hosts-etcd PREFIX): key PREFIX + NAME, value `ADDRESS [KEY=VALUE ...]`,
// e.g. `etcdctl put /flocker/hosts/e4 'tcp://10.0.0.4:2375 zone=b'`. An entry that does not
// parse is left out and its problem added to `problems`; the others stand.
std::vector<HostEntry> hosts_from_etcd(const std::map<std::string, std::string>& keys, std::string_view prefix,
                                       std::vector<std::string>& problems);

// Reads and parses a hosts file; throws HostListError when it cannot be read.
std::vector<HostEntry> load_hosts_file(const std::string& path);

}  // namespace flocker::decider
