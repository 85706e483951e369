// Container names being created or renamed to, so that two hosts cannot take one name at
// once (the object model learns a name only once its create has returned).
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "flock/coordination/coordination.h"
#include "flock/model/object_model.h"
#include "transport/net.h"

namespace flocker::flock {

class ReservedNames {
 public:
  bool reserve(const std::string& name) {
    std::lock_guard lock(mu_);
    return names_.insert(std::string(bare_name(name))).second;
  }
  void release(const std::string& name) {
    std::lock_guard lock(mu_);
    names_.erase(std::string(bare_name(name)));
  }

 private:
  std::mutex mu_;
  std::set<std::string> names_;
};

// The names one create or rename holds, released when it is over: in this proxy's memory
// first (another request of this proxy), then, with --coordination, flock-wide in etcd.
class NameReservations {
 public:
  NameReservations(ReservedNames& names, Coordination* coordination, std::string request_id)
      : names_(names), coordination_(coordination), request_id_(std::move(request_id)) {}
  ~NameReservations();
  NameReservations(const NameReservations&) = delete;
  NameReservations& operator=(const NameReservations&) = delete;

  // kTaken: `holder()` says who has it; kUnavailable: `problem()` says why (etcd).
  transport::Task<Claim> reserve(const std::string& name);
  // With --coordination: records where the create or rename of `name` goes, before the
  // engine is asked; false when etcd cannot (`problem()` says why).
  transport::Task<bool> placing(const std::string& name, const std::string& host);
  // The host a proxy that stopped mid-create sent a reserved name to ("" if none): this
  // create must go there as well, where the engine keeps the name unique.
  const std::string& placed_host() const { return placed_host_; }
  // Who holds the name, for docker's 409, when this create cannot go to `placed_host()`.
  std::string placed_holder() const;
  const std::string& holder() const { return holder_; }
  const std::string& problem() const { return problem_; }

 private:
  struct Held {
    std::string name;
    std::string claim;  // what etcd holds for it; empty without coordination
  };
  ReservedNames& names_;
  Coordination* coordination_;
  const std::string request_id_;
  std::vector<Held> held_;
  std::string holder_, problem_, placed_host_;
};

}  // namespace flocker::flock
