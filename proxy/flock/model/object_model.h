// The flock's objects, host by host: the one source for "where is X". Containers (ID, name),
// images (ID, tags, digests), volumes (name, driver) and networks (ID, name, driver, scope).
//
// Filled by the control plane from each host's lists when its event stream opens, and kept
// current from that stream; the proxy's own successful changes are applied at once too, so
// a client reads its own writes. Placement asks it where an object is; the merged reads will
// be answered from it.
//
// Readers on any I/O thread take a snapshot, and what they hold never changes under them.
// Taking one is an atomic load of a generation number and a reference count: each thread
// keeps the snapshot it took last and takes the new one (std::atomic<shared_ptr>, which
// libstdc++ guards with a spin bit) only when the generation moved. No lock on the hot path. A writer copies the one table it changes of the one
// host it changes (the other tables and hosts are shared with the previous snapshot),
// publishes the new snapshot, then moves the generation. Writers are serialized among
// themselves.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "docker/listed_container.h"
#include "docker/objects.h"

namespace flocker::flock {

struct ContainerRecord {
  std::string id;    // full 64-hex ID
  std::string host;  // its host's name in the flock
  std::string name;  // without docker's leading '/'
  std::string image;
  int64_t created = 0;
  bool running = false;
  std::vector<docker::HostPort> ports = {};  // published host ports, while running
  // Limits it was created with, when the proxy created it (for deciders that pack).
  int64_t nano_cpus = 0, memory = 0;
  // The host ports its create asked for, when the proxy created it: what it publishes from
  // the moment its start through the proxy returns, until a list says more exactly.
  std::vector<docker::HostPort> requested_ports = {};
  // The list's "State" (created, running, paused, restarting, exited, dead, removing); ""
  // when only an event has told of it.
  std::string state = {};
  // Its list entry and what `docker ps` filters on, once read from its host (null while only
  // an event has told of it): what the list is answered from.
  std::shared_ptr<const docker::ListedContainer> listed = {};
  // Which read (ObjectModel::begin_read) it is from: an older read's answer, arriving late,
  // does not overwrite it.
  uint64_t read_seq = 0;
  // Its exact creation time, when known without its list entry (an inspect): ns.
  int64_t created_ns = 0;
};

// A container as read from its host.
ContainerRecord record_of(const std::string& host, std::shared_ptr<const docker::ListedContainer> listed,
                          uint64_t read_seq);

struct ContainerTable {
  std::map<std::string, ContainerRecord, std::less<>> by_id;  // ordered: prefix search
  std::unordered_map<std::string, std::string> id_by_name;
  void put(ContainerRecord record);
  void remove(std::string_view id);
  void rename(std::string_view id, std::string_view new_name);
  // Removed as of read `seq`: reads issued before it that still saw it are not applied.
  void bury(std::string_view id, uint64_t seq);
  // The read that saw `id` removed (0: none remembered).
  uint64_t buried(std::string_view id) const;
  std::unordered_map<std::string, uint64_t> gone;  // a bounded memory of removals

  // What its containers take from the host, for deciders (Candidate.reserved_*,
  // published_ports): summed once when the table is made, so that every create does not
  // walk every container of every host.
  struct Usage {
    int64_t nano_cpus = 0, memory = 0;
    std::vector<docker::HostPort> published;  // by its running containers
    int64_t running = 0, paused = 0, total = 0;  // containers, as docker info counts them
  };
  Usage usage;
  // Records known from an event only, not yet read (their list entry is not here).
  std::size_t unlisted = 0;
  // The list entries, newest first (the engine's order), for `docker ps` from memory.
  std::vector<const docker::ListedContainer*> newest_first;
  void sum_usage();
};

// When a tag came to name the image it names on a host: the flock resolves a tag to its
// newest assignment on any host (one engine's tag names one image, the last one given it).
struct TagMark {
  int64_t ns = 0;  // nanoseconds since the epoch
  // Not seen moving: the image's creation time, from a listing (refined to dockerd's
  // Metadata.LastTagTime before hosts that disagree are brought in line).
  bool estimated = true;
  bool operator==(const TagMark&) const = default;
};

struct ImageTable {
  std::map<std::string, docker::ImageSummary, std::less<>> by_id;  // "sha256:..."
  std::unordered_map<std::string, std::string> id_by_ref;          // normalized tag or digest
  std::unordered_map<std::string, TagMark> tagged;                 // every tag (not digests)
  void put(docker::ImageSummary image);
  // The tags of `next` (a fresh listing) get their marks: kept from `before` where the tag
  // still names the same image, else `now` when the move was seen as it happened (an event,
  // the proxy's own change), else an estimate. Returns the tags that moved or are new.
  std::vector<std::string> mark_tags(const ImageTable* before, int64_t now_ns, bool observed);
};

// Whether a normalized reference is a tag ("app:latest"), not a digest ("app@sha256:...").
bool is_tag(std::string_view normalized);

// A tag resolved once against the whole flock, then checked host by host.
struct ImageRef {
  std::string ref;        // as given: a tag, digest, ID or ID prefix
  std::string tag;        // normalized, when `ref` is a tag some host has
  std::string winner_id;  // the image the tag names across the flock ("" when not a tag)
  TagMark mark;           // the winning assignment
  std::string winner_host;
};

struct VolumeTable {
  std::map<std::string, docker::VolumeSummary, std::less<>> by_name;
};

struct NetworkTable {
  std::map<std::string, docker::NetworkSummary, std::less<>> by_id;
  std::unordered_map<std::string, std::string> id_by_name;
  void put(docker::NetworkSummary network);
  void remove(std::string_view id);
};

// One host's objects. Immutable once published.
struct HostObjects {
  std::string host;
  // True once the host was listed after its event stream (re)opened: then what it lacks
  // here it lacks on the engine too. False while it resyncs (a lost stream, a reconnect).
  bool synced = false;
  std::shared_ptr<const ContainerTable> containers = std::make_shared<ContainerTable>();
  std::shared_ptr<const ImageTable> images = std::make_shared<ImageTable>();
  std::shared_ptr<const VolumeTable> volumes = std::make_shared<VolumeTable>();
  std::shared_ptr<const NetworkTable> networks = std::make_shared<NetworkTable>();

  // An image by tag or digest (normalized here), full ID, or ID prefix as docker accepts it,
  // as this host alone resolves it.
  const docker::ImageSummary* image(std::string_view ref) const;
  // The same for a reference resolved flock-wide: a tag only where it names the flock's
  // image (a host that kept an older image under the tag does not have it).
  const docker::ImageSummary* image(const ImageRef& ref) const;
  // A network by full ID, name, or unique ID prefix (docker's order).
  const docker::NetworkSummary* network(std::string_view ref) const;
  const docker::VolumeSummary* volume(std::string_view name) const;
};

// The state of the flock's objects at one moment.
class ModelSnapshot {
 public:
  const std::vector<std::shared_ptr<const HostObjects>>& hosts() const { return hosts_; }
  const HostObjects* host(std::string_view name) const;

  enum class Found { kOne, kNone, kAmbiguous };
  struct ContainerLookup {
    Found found = Found::kNone;
    ContainerRecord container;
  };
  // Docker's resolution order over the whole flock: full ID, then name, then a unique ID
  // prefix.
  ContainerLookup container(std::string_view ref) const;
  std::optional<ContainerRecord> container_by_name(std::string_view name) const;
  // A tag resolved to its newest assignment on any synced host (ties: the first host by
  // name); other references as given.
  ImageRef resolve_image(std::string_view ref) const;
  // The hosts holding an image (a tag: where it names the flock's image), a volume, a
  // network (by ID, name or prefix).
  std::vector<std::string> image_holders(std::string_view ref) const;
  std::vector<std::string> image_holders(const ImageRef& ref) const;
  // The tags among `tags` that name different images on different hosts.
  std::vector<std::string> disagreeing(const std::vector<std::string>& tags) const;
  std::vector<std::string> volume_holders(std::string_view name) const;
  std::vector<std::string> network_holders(std::string_view ref) const;
  // The current ID of a network that moved (a local network follows its first container),
  // by the full ID or a unique prefix of an ID it had: the ID the client was given keeps
  // naming it. nullopt when `ref` is no such ID.
  std::optional<std::string> network_alias(std::string_view ref) const;
  // Whether every host in `names` is synced (then a miss is a true miss).
  bool all_synced(const std::vector<std::string>& names) const;

 private:
  friend class ObjectModel;
  std::vector<std::shared_ptr<const HostObjects>> hosts_;  // sorted by host name
  // Old network ID -> the ID it has now (null: none).
  std::shared_ptr<const std::map<std::string, std::string, std::less<>>> network_aliases_;
};

// A change to one host's objects: tables are copied on first write, the rest is shared.
class HostEdit {
 public:
  explicit HostEdit(HostObjects& objects) : h_(objects) {}
  ContainerTable& containers();
  ImageTable& images();
  VolumeTable& volumes();
  NetworkTable& networks();
  HostObjects& objects() { return h_; }
  // After the change: what is derived from the tables it touched.
  void finish();

 private:
  HostObjects& h_;
  ContainerTable* containers_ = nullptr;
  ImageTable* images_ = nullptr;
  VolumeTable* volumes_ = nullptr;
  NetworkTable* networks_ = nullptr;
};

class ObjectModel {
 public:
  ObjectModel();
  using Snapshot = std::shared_ptr<const ModelSnapshot>;
  // The current snapshot; after a write returns, the writing thread and every thread that
  // learns of the write afterwards see it. (A copy: hold it across co_await freely.)
  Snapshot snapshot() const;

  // A number for a read about to be issued: reads issued later have larger ones.
  uint64_t begin_read() { return reads_.fetch_add(1, std::memory_order_relaxed) + 1; }

  // Everything a host holds, from its lists (issued as read `seq`): replaces what was known,
  // but for containers read again since, and marks it synced.
  // Returns the tags that moved or are new there (ImageTable::mark_tags).
  std::vector<std::string> replace_host(const std::string& host, uint64_t seq,
                                        const std::vector<std::shared_ptr<const docker::ListedContainer>>& containers,
                                        const std::vector<docker::ImageSummary>& images,
                                        const std::vector<docker::VolumeSummary>& volumes,
                                        const std::vector<docker::NetworkSummary>& networks);
  // One container read again (issued as read `seq`): its list entry, or null when its host
  // no longer has it. Not applied when a later read or removal is already in.
  void apply_read(const std::string& host, const std::string& id, uint64_t seq,
                  std::shared_ptr<const docker::ListedContainer> listed);
  // Applies `change` to a copy of the host's objects (an empty host is added if unknown)
  // and publishes it.
  void edit(const std::string& host, const std::function<void(HostEdit&)>& change);
  // A network re-created elsewhere under `new_id`: `old_id` (and older IDs of it) name it.
  void alias_network(const std::string& old_id, const std::string& new_id);
  // Its event stream broke: what it holds is kept, but no longer trusted for misses.
  void mark_unsynced(const std::string& host);
  void drop_host(const std::string& host);

  // The counts of everything known, for logs and tests.
  struct Sizes {
    std::size_t hosts = 0, containers = 0, images = 0, volumes = 0, networks = 0;
  };
  Sizes sizes() const;

 private:
  void publish(std::shared_ptr<HostObjects> host);  // with write_mu_ held

  void store(Snapshot next);  // with write_mu_ held

  std::atomic<std::shared_ptr<const ModelSnapshot>> current_;
  std::atomic<uint64_t> generation_{1};
  std::atomic<uint64_t> reads_{0};
  const uint64_t id_;  // tells this model's entry in a thread's cache from another's
  std::mutex write_mu_;
};

// Strips docker's leading '/' from a container name.
std::string_view bare_name(std::string_view name);

}  // namespace flocker::flock
