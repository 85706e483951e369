#include "flock/ownership_index.h"

#include <mutex>

namespace flocker::flock {
namespace {

constexpr std::size_t kMaxExecs = 100000;

}  // namespace

std::string_view bare_name(std::string_view name) {
  if (!name.empty() && name[0] == '/') name.remove_prefix(1);
  return name;
}

OwnershipIndex::Lookup OwnershipIndex::find(std::string_view ref) const {
  std::shared_lock lock(mu_);
  Lookup out;
  if (ref.empty()) return out;
  if (auto it = by_id_.find(ref); it != by_id_.end()) {
    return {Found::kOne, it->second};
  }
  if (auto it = id_by_name_.find(std::string(bare_name(ref))); it != id_by_name_.end()) {
    return {Found::kOne, by_id_.at(it->second)};
  }
  for (auto it = by_id_.lower_bound(ref); it != by_id_.end() && it->first.starts_with(ref); ++it) {
    if (out.found == Found::kOne) return {Found::kAmbiguous, {}};
    out = {Found::kOne, it->second};
  }
  return out;
}

std::optional<ContainerRecord> OwnershipIndex::by_name(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = id_by_name_.find(std::string(bare_name(name)));
  if (it == id_by_name_.end()) return std::nullopt;
  return by_id_.at(it->second);
}

void OwnershipIndex::erase_locked(std::string_view id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  auto n = id_by_name_.find(it->second.name);
  if (n != id_by_name_.end() && n->second == it->first) id_by_name_.erase(n);
  if (auto h = ids_by_host_.find(it->second.host); h != ids_by_host_.end()) h->second.erase(it->first);
  by_id_.erase(it);
}

void OwnershipIndex::put_locked(ContainerRecord record) {
  record.name = std::string(bare_name(record.name));
  erase_locked(record.id);
  if (!record.name.empty()) id_by_name_[record.name] = record.id;
  ids_by_host_[record.host].insert(record.id);
  std::string id = record.id;
  by_id_.emplace(std::move(id), std::move(record));
}

void OwnershipIndex::put(ContainerRecord record) {
  std::unique_lock lock(mu_);
  put_locked(std::move(record));
}

void OwnershipIndex::remove(std::string_view id) {
  std::unique_lock lock(mu_);
  erase_locked(id);
}

void OwnershipIndex::rename(std::string_view id, std::string_view new_name) {
  std::unique_lock lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  auto n = id_by_name_.find(it->second.name);
  if (n != id_by_name_.end() && n->second == it->first) id_by_name_.erase(n);
  it->second.name = std::string(bare_name(new_name));
  id_by_name_[it->second.name] = it->first;
}

void OwnershipIndex::replace_host(const std::string& host, std::vector<ContainerRecord> records) {
  std::unique_lock lock(mu_);
  std::unordered_set<std::string> fresh;
  for (const auto& r : records) fresh.insert(r.id);
  std::vector<std::string> gone;
  if (auto h = ids_by_host_.find(host); h != ids_by_host_.end()) {
    for (const auto& id : h->second) {
      if (!fresh.count(id)) gone.push_back(id);
    }
  }
  for (const auto& id : gone) erase_locked(id);
  for (auto& r : records) put_locked(std::move(r));
}

bool OwnershipIndex::claim_refresh(const std::string& host, std::chrono::milliseconds interval) {
  std::unique_lock lock(mu_);
  auto now = std::chrono::steady_clock::now();
  auto& last = refreshed_[host];
  if (now - last < interval) return false;
  last = now;
  return true;
}

void OwnershipIndex::drop_host(const std::string& host) {
  replace_host(host, {});
  std::unique_lock lock(mu_);
  ids_by_host_.erase(host);
  refreshed_.erase(host);
}

std::size_t OwnershipIndex::size() const {
  std::shared_lock lock(mu_);
  return by_id_.size();
}

bool OwnershipIndex::reserve_name(const std::string& name) {
  std::unique_lock lock(mu_);
  return reserved_.insert(std::string(bare_name(name))).second;
}

void OwnershipIndex::release_name(const std::string& name) {
  std::unique_lock lock(mu_);
  reserved_.erase(std::string(bare_name(name)));
}

void OwnershipIndex::put_exec(const std::string& exec_id, const std::string& host) {
  std::unique_lock lock(mu_);
  if (exec_host_.emplace(exec_id, host).second) exec_order_.push_back(exec_id);
  while (exec_order_.size() > kMaxExecs) {
    exec_host_.erase(exec_order_.front());
    exec_order_.pop_front();
  }
}

std::optional<std::string> OwnershipIndex::exec_host(std::string_view exec_id) const {
  std::shared_lock lock(mu_);
  auto it = exec_host_.find(std::string(exec_id));
  if (it == exec_host_.end()) return std::nullopt;
  return it->second;
}

}  // namespace flocker::flock
