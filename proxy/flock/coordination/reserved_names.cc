#include "flock/coordination/reserved_names.h"

namespace flocker::flock {

NameReservations::~NameReservations() {
  for (const auto& held : held_) {
    names_.release(held.name);
    if (coordination_ && !held.claim.empty()) coordination_->release_name(held.name, held.claim);
  }
}

transport::Task<Claim> NameReservations::reserve(const std::string& name) {
  const std::string bare(bare_name(name));
  if (!names_.reserve(bare)) {
    holder_ = "(a container being created)";
    co_return Claim::kTaken;
  }
  Held held{bare, {}};
  if (coordination_) {
    auto result = co_await coordination_->claim_name(bare, request_id_);
    if (result.claim != Claim::kReserved) {
      names_.release(bare);
      (result.claim == Claim::kTaken ? holder_ : problem_) = result.message;
      co_return result.claim;
    }
    held.claim = std::move(result.value);
    if (!result.placed_host.empty()) placed_host_ = std::move(result.placed_host);
  }
  held_.push_back(std::move(held));
  co_return Claim::kReserved;
}

std::string NameReservations::placed_holder() const {
  return "(a container being created on host " + placed_host_ + " through a flocker-proxy that stopped)";
}

transport::Task<bool> NameReservations::placing(const std::string& name, const std::string& host) {
  if (!coordination_ || name.empty()) co_return true;
  // No temporaries inside the co_await's condition: GCC 12 mishandles them (SIGILL, seen).
  const std::string bare(bare_name(name));
  const bool placed = co_await coordination_->place_name(bare, host);
  if (!placed) problem_ = coordination_->unavailable_message();
  co_return placed;
}

}  // namespace flocker::flock
