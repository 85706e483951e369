// Container names being created or renamed to, flock-wide, so that two hosts cannot take one
// name at once (the object model learns a name only once its create has returned).
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "flock/object_model.h"

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

// The names one create or rename holds, released when it is over.
class NameReservations {
 public:
  explicit NameReservations(ReservedNames& names) : names_(names) {}
  ~NameReservations() {
    for (const auto& n : held_) names_.release(n);
  }
  NameReservations(const NameReservations&) = delete;
  NameReservations& operator=(const NameReservations&) = delete;
  bool reserve(const std::string& name) {
    if (!names_.reserve(name)) return false;
    held_.push_back(name);
    return true;
  }

 private:
  ReservedNames& names_;
  std::vector<std::string> held_;
};

}  // namespace flocker::flock
