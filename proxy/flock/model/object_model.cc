#include "flock/model/object_model.h"

#include <algorithm>

#include "docker/image_ref.h"

namespace flocker::flock {
namespace {

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// A network ID or its prefix: hex for a local network, 25 of [0-9a-z] for a swarm's.
bool is_network_id(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
  });
}

// The entry of an ordered map keyed by ID that `prefix` names uniquely; null when none or
// several.
template <class Map>
const typename Map::mapped_type* unique_prefix(const Map& map, std::string_view prefix) {
  const typename Map::mapped_type* found = nullptr;
  for (auto it = map.lower_bound(prefix); it != map.end() && it->first.starts_with(prefix); ++it) {
    if (found) return nullptr;
    found = &it->second;
  }
  return found;
}

// Replaces a shared table with a private copy to write into.
template <class T>
void clone_into(std::shared_ptr<const T>& slot, T*& mine) {
  auto copy = std::make_shared<T>(*slot);
  mine = copy.get();
  slot = std::move(copy);
}

}  // namespace

std::string_view bare_name(std::string_view name) {
  if (!name.empty() && name[0] == '/') name.remove_prefix(1);
  return name;
}

// --- tables

void ContainerTable::remove(std::string_view id) {
  auto it = by_id.find(id);
  if (it == by_id.end()) return;
  auto n = id_by_name.find(it->second.name);
  if (n != id_by_name.end() && n->second == it->first) id_by_name.erase(n);
  by_id.erase(it);
}

ContainerRecord record_of(const std::string& host, std::shared_ptr<const docker::ListedContainer> listed,
                          uint64_t read_seq) {
  const auto& l = *listed;
  ContainerRecord r{l.id, host, std::string(bare_name(l.name)), l.image_ref, l.created,
                    l.state_word == "running" || l.state_word == "paused"};
  for (const auto& p : l.ports) {
    if (p.public_port > 0) {
      r.ports.push_back({p.ip, static_cast<uint32_t>(p.public_port), p.type.empty() ? "tcp" : p.type});
    }
  }
  r.state = l.state_word;
  r.listed = std::move(listed);
  r.read_seq = read_seq;
  return r;
}

void ContainerTable::bury(std::string_view id, uint64_t seq) {
  // Bounded: the oldest removals are forgotten first (a read that late is long answered).
  constexpr std::size_t kRemembered = 4096;
  if (gone.size() >= kRemembered) {
    auto oldest = std::min_element(gone.begin(), gone.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    gone.erase(oldest);
  }
  auto& at = gone[std::string(id)];
  at = std::max(at, seq);
}

uint64_t ContainerTable::buried(std::string_view id) const {
  auto it = gone.find(std::string(id));
  return it == gone.end() ? 0 : it->second;
}

void ContainerTable::sum_usage() {
  usage = {};
  unlisted = 0;
  newest_first.clear();
  for (const auto& [id, c] : by_id) {
    if (c.listed) newest_first.push_back(c.listed.get());
  }
  std::sort(newest_first.begin(), newest_first.end(),
            [](const auto* a, const auto* b) { return a->created_ns > b->created_ns; });
  for (const auto& [id, c] : by_id) {
    unlisted += c.listed ? 0 : 1;
    ++usage.total;
    const std::string& state = c.listed ? c.listed->state_word : c.state;
    if (state == "running") ++usage.running;
    if (state == "paused") ++usage.paused;
    usage.nano_cpus += c.nano_cpus;
    usage.memory += c.memory;
    if (c.running) usage.published.insert(usage.published.end(), c.ports.begin(), c.ports.end());
  }
}

void ContainerTable::put(ContainerRecord record) {
  record.name = std::string(bare_name(record.name));
  if (auto it = by_id.find(record.id); it != by_id.end()) {
    // A repeat (the event after the proxy's own create, a list): keep what is known.
    if (record.name.empty()) record.name = it->second.name;
    if (record.image.empty()) record.image = it->second.image;
    if (record.created == 0) record.created = it->second.created;
    if (record.created_ns == 0) record.created_ns = it->second.created_ns;
    if (record.nano_cpus == 0) record.nano_cpus = it->second.nano_cpus;
    if (record.memory == 0) record.memory = it->second.memory;
    if (record.requested_ports.empty()) record.requested_ports = it->second.requested_ports;
    if (record.state.empty()) record.state = it->second.state;
    if (!record.listed) {  // an event, or the proxy's own create: the last read stays
      record.listed = it->second.listed;
      record.read_seq = std::max(record.read_seq, it->second.read_seq);
    }
    remove(record.id);
  }
  if (!record.name.empty()) id_by_name[record.name] = record.id;
  std::string id = record.id;
  by_id.emplace(std::move(id), std::move(record));
}

void ContainerTable::rename(std::string_view id, std::string_view new_name) {
  auto it = by_id.find(id);
  if (it == by_id.end()) return;
  auto n = id_by_name.find(it->second.name);
  if (n != id_by_name.end() && n->second == it->first) id_by_name.erase(n);
  it->second.name = std::string(bare_name(new_name));
  id_by_name[it->second.name] = it->first;
}

void ImageTable::put(docker::ImageSummary image) {
  for (const auto& ref : image.refs) id_by_ref[ref] = image.id;
  auto [it, added] = by_id.try_emplace(image.id, image);
  if (!added) {  // another tag of an image already known
    for (auto& ref : image.refs) {
      if (std::find(it->second.refs.begin(), it->second.refs.end(), ref) == it->second.refs.end()) {
        it->second.refs.push_back(ref);
      }
    }
  }
}

bool is_tag(std::string_view normalized) {
  return !normalized.empty() && normalized.find('@') == std::string_view::npos && !normalized.starts_with("sha256:");
}

std::vector<std::string> ImageTable::mark_tags(const ImageTable* before, int64_t now_ns, bool observed) {
  std::vector<std::string> moved;
  tagged.clear();
  for (const auto& [ref, id] : id_by_ref) {
    if (!is_tag(ref)) continue;
    if (before) {
      auto was = before->id_by_ref.find(ref);
      auto mark = before->tagged.find(ref);
      if (was != before->id_by_ref.end() && was->second == id && mark != before->tagged.end()) {
        tagged[ref] = mark->second;
        continue;
      }
    }
    moved.push_back(ref);
    if (observed) {
      tagged[ref] = {now_ns, false};
    } else {
      auto image = by_id.find(id);
      tagged[ref] = {image == by_id.end() ? 0 : image->second.created * 1'000'000'000, true};
    }
  }
  return moved;
}

void NetworkTable::put(docker::NetworkSummary network) {
  remove(network.id);
  id_by_name[network.name] = network.id;
  std::string id = network.id;
  by_id.emplace(std::move(id), std::move(network));
}

void NetworkTable::remove(std::string_view id) {
  auto it = by_id.find(id);
  if (it == by_id.end()) return;
  auto n = id_by_name.find(it->second.name);
  if (n != id_by_name.end() && n->second == it->first) id_by_name.erase(n);
  by_id.erase(it);
}

// --- one host

const docker::ImageSummary* HostObjects::image(std::string_view ref) const {
  if (ref.empty()) return nullptr;
  const auto& t = *images;
  if (auto it = t.by_id.find(ref); it != t.by_id.end()) return &it->second;
  if (auto it = t.id_by_ref.find(docker::normalize_image(ref)); it != t.id_by_ref.end()) {
    if (auto img = t.by_id.find(it->second); img != t.by_id.end()) return &img->second;
  }
  // An ID prefix, with or without "sha256:" (docker accepts both).
  std::string prefix(ref);
  if (!prefix.starts_with("sha256:")) {
    if (!is_hex(prefix)) return nullptr;
    prefix = "sha256:" + prefix;
  }
  return unique_prefix(t.by_id, prefix);
}

const docker::ImageSummary* HostObjects::image(const ImageRef& ref) const {
  if (ref.winner_id.empty()) return image(ref.ref);
  auto named = images->id_by_ref.find(ref.tag);
  if (named == images->id_by_ref.end() || named->second != ref.winner_id) return nullptr;
  auto it = images->by_id.find(ref.winner_id);
  return it == images->by_id.end() ? nullptr : &it->second;
}

const docker::NetworkSummary* HostObjects::network(std::string_view ref) const {
  if (ref.empty()) return nullptr;
  const auto& t = *networks;
  if (auto it = t.by_id.find(ref); it != t.by_id.end()) return &it->second;
  if (auto it = t.id_by_name.find(std::string(ref)); it != t.id_by_name.end()) {
    if (auto n = t.by_id.find(it->second); n != t.by_id.end()) return &n->second;
  }
  if (!is_network_id(ref)) return nullptr;
  return unique_prefix(t.by_id, ref);
}

const docker::VolumeSummary* HostObjects::volume(std::string_view name) const {
  auto it = volumes->by_name.find(name);
  return it == volumes->by_name.end() ? nullptr : &it->second;
}

// --- the flock

const HostObjects* ModelSnapshot::host(std::string_view name) const {
  auto it = std::lower_bound(hosts_.begin(), hosts_.end(), name,
                             [](const auto& h, std::string_view n) { return h->host < n; });
  if (it == hosts_.end() || (*it)->host != name) return nullptr;
  return it->get();
}

ModelSnapshot::ContainerLookup ModelSnapshot::container(std::string_view ref) const {
  ContainerLookup out;
  if (ref.empty()) return out;
  for (const auto& h : hosts_) {
    const auto& t = *h->containers;
    if (auto it = t.by_id.find(ref); it != t.by_id.end()) return {Found::kOne, it->second};
  }
  if (auto named = container_by_name(ref)) return {Found::kOne, *named};
  if (!is_hex(ref)) return out;
  for (const auto& h : hosts_) {
    const auto& by_id = h->containers->by_id;
    for (auto it = by_id.lower_bound(ref); it != by_id.end() && it->first.starts_with(ref); ++it) {
      if (out.found == Found::kOne) return {Found::kAmbiguous, {}};
      out = {Found::kOne, it->second};
    }
  }
  return out;
}

std::optional<ContainerRecord> ModelSnapshot::container_by_name(std::string_view name) const {
  const std::string bare(bare_name(name));
  for (const auto& h : hosts_) {
    const auto& t = *h->containers;
    if (auto it = t.id_by_name.find(bare); it != t.id_by_name.end()) return t.by_id.at(it->second);
  }
  return std::nullopt;
}

ImageRef ModelSnapshot::resolve_image(std::string_view ref) const {
  ImageRef out;
  out.ref = std::string(ref);
  std::string normalized = docker::normalize_image(ref);
  if (!is_tag(normalized)) return out;
  for (const auto& h : hosts_) {
    const auto& t = *h->images;
    auto named = t.id_by_ref.find(normalized);
    if (named == t.id_by_ref.end()) continue;
    auto m = t.tagged.find(normalized);
    const TagMark mark = m == t.tagged.end() ? TagMark{} : m->second;
    if (out.winner_id.empty() || mark.ns > out.mark.ns) {
      out.winner_id = named->second;
      out.mark = mark;
      out.winner_host = h->host;
    }
  }
  if (!out.winner_id.empty()) out.tag = std::move(normalized);
  return out;
}

std::vector<std::string> ModelSnapshot::image_holders(std::string_view ref) const {
  return image_holders(resolve_image(ref));
}

std::vector<std::string> ModelSnapshot::image_holders(const ImageRef& ref) const {
  std::vector<std::string> out;
  for (const auto& h : hosts_) {
    if (h->image(ref)) out.push_back(h->host);
  }
  return out;
}

std::vector<std::string> ModelSnapshot::disagreeing(const std::vector<std::string>& tags) const {
  std::vector<std::string> out;
  for (const auto& tag : tags) {
    const std::string* first = nullptr;
    for (const auto& h : hosts_) {
      auto named = h->images->id_by_ref.find(tag);
      if (named == h->images->id_by_ref.end()) continue;
      if (!first) {
        first = &named->second;
      } else if (*first != named->second) {
        out.push_back(tag);
        break;
      }
    }
  }
  return out;
}

std::vector<std::string> ModelSnapshot::volume_holders(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& h : hosts_) {
    if (h->volume(name)) out.push_back(h->host);
  }
  return out;
}

std::vector<std::string> ModelSnapshot::network_holders(std::string_view ref) const {
  // Docker's order across the flock too: a full ID anywhere, then a name, then a prefix (a
  // network may be named with another's ID).
  std::vector<std::string> by_id, by_name, prefixed;
  for (const auto& h : hosts_) {
    const auto& t = *h->networks;
    if (t.by_id.count(ref)) {
      by_id.push_back(h->host);
    } else if (t.id_by_name.count(std::string(ref))) {
      by_name.push_back(h->host);
    } else if (h->network(ref)) {
      prefixed.push_back(h->host);
    }
  }
  return !by_id.empty() ? by_id : !by_name.empty() ? by_name : prefixed;
}

std::optional<std::string> ModelSnapshot::network_alias(std::string_view ref) const {
  if (ref.empty() || !network_aliases_) return std::nullopt;
  if (auto it = network_aliases_->find(ref); it != network_aliases_->end()) return it->second;
  if (!is_hex(ref)) return std::nullopt;
  const std::string* found = nullptr;
  for (auto it = network_aliases_->lower_bound(ref); it != network_aliases_->end() && it->first.starts_with(ref); ++it) {
    if (found) return std::nullopt;  // ambiguous
    found = &it->second;
  }
  return found ? std::optional<std::string>(*found) : std::nullopt;
}

bool ModelSnapshot::all_synced(const std::vector<std::string>& names) const {
  for (const auto& n : names) {
    const HostObjects* h = host(n);
    if (!h || !h->synced) return false;
  }
  return true;
}

// --- writing

void HostEdit::finish() {
  if (containers_) containers_->sum_usage();
}

ContainerTable& HostEdit::containers() {
  if (!containers_) clone_into(h_.containers, containers_);
  return *containers_;
}
ImageTable& HostEdit::images() {
  if (!images_) clone_into(h_.images, images_);
  return *images_;
}
VolumeTable& HostEdit::volumes() {
  if (!volumes_) clone_into(h_.volumes, volumes_);
  return *volumes_;
}
NetworkTable& HostEdit::networks() {
  if (!networks_) clone_into(h_.networks, networks_);
  return *networks_;
}

namespace {
std::atomic<uint64_t> next_model_id{1};
}  // namespace

ObjectModel::ObjectModel() : current_(std::make_shared<const ModelSnapshot>()), id_(next_model_id++) {}

ObjectModel::Snapshot ObjectModel::snapshot() const {
  // The last snapshot this thread took, and of which model and generation. A thread that
  // reads several models (tests do) just takes a fresh one more often.
  struct Cached {
    uint64_t model = 0, generation = 0;
    Snapshot snapshot;
  };
  thread_local Cached cached;
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (cached.model != id_ || cached.generation != generation) {
    cached.snapshot = current_.load(std::memory_order_acquire);
    cached.model = id_;
    cached.generation = generation;
  }
  return cached.snapshot;
}

void ObjectModel::store(Snapshot next) {
  current_.store(std::move(next), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void ObjectModel::publish(std::shared_ptr<HostObjects> host) {
  auto next = std::make_shared<ModelSnapshot>(*snapshot());
  auto& hosts = next->hosts_;
  auto it = std::lower_bound(hosts.begin(), hosts.end(), host->host,
                             [](const auto& h, const std::string& n) { return h->host < n; });
  if (it != hosts.end() && (*it)->host == host->host) {
    *it = std::move(host);
  } else {
    hosts.insert(it, std::move(host));
  }
  store(std::move(next));
}

std::vector<std::string> ObjectModel::replace_host(
    const std::string& host, uint64_t seq,
    const std::vector<std::shared_ptr<const docker::ListedContainer>>& containers,
    const std::vector<docker::ImageSummary>& images, const std::vector<docker::VolumeSummary>& volumes,
    const std::vector<docker::NetworkSummary>& networks) {
  auto it = std::make_shared<ImageTable>();
  for (const auto& i : images) it->put(i);
  auto vt = std::make_shared<VolumeTable>();
  for (const auto& v : volumes) vt->by_name[v.name] = v;
  auto nt = std::make_shared<NetworkTable>();
  for (const auto& n : networks) nt->put(n);
  std::lock_guard lock(write_mu_);
  const HostObjects* before = snapshot()->host(host);
  // (Not seen moving: a tag that changed while the host was not watched is estimated.)
  auto moved = it->mark_tags(before ? before->images.get() : nullptr, 0, false);
  const ContainerTable* old = before ? before->containers.get() : nullptr;
  auto ct = std::make_shared<ContainerTable>();
  if (old) ct->gone = old->gone;
  for (const auto& l : containers) {
    if (ct->buried(l->id) > seq) continue;  // removed after this list was asked for
    ContainerRecord r = record_of(host, l, seq);
    if (old) {
      if (auto o = old->by_id.find(l->id); o != old->by_id.end()) {
        if (o->second.read_seq > seq) r = o->second;  // read again since: newer than the list
        r.nano_cpus = o->second.nano_cpus;            // what a list does not say
        r.memory = o->second.memory;
        r.requested_ports = o->second.requested_ports;
      }
    }
    ct->put(std::move(r));
  }
  if (old) {  // made after the list was asked for (an event, a create through the proxy)
    for (const auto& [id, r] : old->by_id) {
      if (!ct->by_id.count(id) && r.read_seq > seq) ct->put(r);
    }
  }
  ct->sum_usage();
  auto h = std::make_shared<HostObjects>();
  h->host = host;
  h->synced = true;
  h->containers = std::move(ct);
  h->images = std::move(it);
  h->volumes = std::move(vt);
  h->networks = std::move(nt);
  publish(std::move(h));
  return moved;
}

void ObjectModel::apply_read(const std::string& host, const std::string& id, uint64_t seq,
                             std::shared_ptr<const docker::ListedContainer> listed) {
  edit(host, [&](HostEdit& e) {
    const ContainerTable& now = *e.objects().containers;
    if (now.buried(id) > seq) return;
    if (auto it = now.by_id.find(id); it != now.by_id.end() && it->second.read_seq > seq) return;
    auto& t = e.containers();
    if (!listed) {
      t.remove(id);
      t.bury(id, seq);
      return;
    }
    t.put(record_of(host, std::move(listed), seq));
  });
}

void ObjectModel::edit(const std::string& host, const std::function<void(HostEdit&)>& change) {
  std::lock_guard lock(write_mu_);
  auto current = snapshot();
  auto copy = std::make_shared<HostObjects>();
  if (const HostObjects* existing = current->host(host)) {
    *copy = *existing;
  } else {
    copy->host = host;
  }
  HostEdit edit(*copy);
  change(edit);
  edit.finish();
  publish(std::move(copy));
}

void ObjectModel::alias_network(const std::string& old_id, const std::string& new_id) {
  std::lock_guard lock(write_mu_);
  auto next = std::make_shared<ModelSnapshot>(*snapshot());
  auto aliases = next->network_aliases_ ? std::make_shared<std::map<std::string, std::string, std::less<>>>(
                                              *next->network_aliases_)
                                        : std::make_shared<std::map<std::string, std::string, std::less<>>>();
  for (auto& [from, to] : *aliases) {
    if (to == old_id) to = new_id;  // moved again: every older ID follows
  }
  (*aliases)[old_id] = new_id;
  aliases->erase(new_id);
  next->network_aliases_ = std::move(aliases);
  store(std::move(next));
}

void ObjectModel::mark_unsynced(const std::string& host) {
  std::lock_guard lock(write_mu_);
  const HostObjects* existing = snapshot()->host(host);
  if (!existing || !existing->synced) return;
  auto copy = std::make_shared<HostObjects>(*existing);
  copy->synced = false;
  publish(std::move(copy));
}

void ObjectModel::drop_host(const std::string& host) {
  std::lock_guard lock(write_mu_);
  auto next = std::make_shared<ModelSnapshot>(*snapshot());
  std::erase_if(next->hosts_, [&](const auto& h) { return h->host == host; });
  store(std::move(next));
}

ObjectModel::Sizes ObjectModel::sizes() const {
  auto s = snapshot();
  Sizes out;
  for (const auto& h : s->hosts()) {
    ++out.hosts;
    out.containers += h->containers->by_id.size();
    out.images += h->images->by_id.size();
    out.volumes += h->volumes->by_name.size();
    out.networks += h->networks->by_id.size();
  }
  return out;
}

}  // namespace flocker::flock
