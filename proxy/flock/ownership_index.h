// Which host owns each container (by full ID, unique ID prefix or name) and each exec
// instance. Fed by create and exec-create responses, list fan-outs and every host's event
// stream; a miss is resolved by asking every host (flock_handler), so the index is a cache
// that is never the only truth.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace flocker::flock {

struct ContainerRecord {
  std::string id;    // full 64-hex ID
  std::string host;  // owner's name in the flock
  std::string name;  // without docker's leading '/'
};

class OwnershipIndex {
 public:
  enum class Found { kOne, kNone, kAmbiguous };
  struct Lookup {
    Found found = Found::kNone;
    ContainerRecord container;
  };

  // Docker's own resolution order: full ID, then name, then a unique ID prefix.
  Lookup find(std::string_view ref) const;
  std::optional<ContainerRecord> by_name(std::string_view name) const;

  void put(ContainerRecord record);
  void remove(std::string_view id);
  void rename(std::string_view id, std::string_view new_name);
  // Replaces everything known of `host` (after a list of all its containers). Costs the
  // host's own entries, not the whole index.
  void replace_host(const std::string& host, std::vector<ContainerRecord> records);
  // Whether a list fan-out should refresh `host`'s part: at most once per `interval` (its
  // event stream keeps it current in between). Claims the refresh when it says yes.
  bool claim_refresh(const std::string& host, std::chrono::milliseconds interval);
  void drop_host(const std::string& host);
  std::size_t size() const;

  // A name being created or renamed to, so that two hosts cannot take it at once.
  bool reserve_name(const std::string& name);
  void release_name(const std::string& name);

  void put_exec(const std::string& exec_id, const std::string& host);
  std::optional<std::string> exec_host(std::string_view exec_id) const;

 private:
  void erase_locked(std::string_view id);
  void put_locked(ContainerRecord record);

  mutable std::shared_mutex mu_;
  std::map<std::string, ContainerRecord, std::less<>> by_id_;  // ordered: prefix search
  std::unordered_map<std::string, std::string> id_by_name_;
  std::unordered_map<std::string, std::unordered_set<std::string>> ids_by_host_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> refreshed_;
  std::set<std::string> reserved_;
  std::unordered_map<std::string, std::string> exec_host_;
  std::deque<std::string> exec_order_;  // oldest first, to bound exec_host_
};

// Strips docker's leading '/' from a container name.
std::string_view bare_name(std::string_view name);

}  // namespace flocker::flock
