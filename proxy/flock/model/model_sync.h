// Keeping one host's part of the object model true: a full listing (at start, and after its
// event stream was lost or reopened), and then the engine's own events as they come.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "flock/model/exec_index.h"
#include "flock/model/object_model.h"
#include "transport/address.h"
#include "transport/worker.h"

namespace flocker::flock {

// Lists everything `host` holds (containers, images, volumes, networks), inspects each
// container (`ps` words its state from what only inspect has: when it started, finished,
// its health), and replaces its part of the model, synced. False, and the model untouched,
// when any of it failed. `moved_tags`: the tags that moved or are new there.
transport::Task<bool> sync_host(transport::Worker& worker, const transport::Address& address,
                                const std::string& host, ObjectModel& model,
                                std::chrono::milliseconds timeout, std::vector<std::string>* moved_tags = nullptr);

// One container read from its host: its list entry (by ID) and its inspect.
struct ContainerRead {
  bool answered = false;  // false: the host did not say (down, an error, a moment of change)
  std::shared_ptr<const docker::ListedContainer> listed;  // null when answered: it is gone
};
transport::Task<ContainerRead> read_container(transport::Worker& worker, const transport::Address& address,
                                              const std::string& host, const std::string& id,
                                              std::chrono::milliseconds timeout);
// Reads a container again and puts what its host says in the model (unless a later read is
// in first), and the containers it links to (their Names list an alias of it); false when
// the host did not say.
transport::Task<bool> reread_container(transport::Worker& worker, const transport::Address& address,
                                       const std::string& host, ObjectModel& model, const std::string& id,
                                       std::chrono::milliseconds timeout);

// The containers of `host` named `names` read again (those a container linked to, once it
// is gone: their Names lose its alias of them).
transport::Task<void> reread_linked(transport::Worker& worker, const transport::Address& address,
                                    const std::string& host, ObjectModel& model, const std::vector<std::string>& names,
                                    std::chrono::milliseconds timeout);

// Which of a host's lists an event is better answered by (the event alone does not say
// enough: an image's tags after a tag or untag, a new network's or volume's list entry).
enum Relist : unsigned { kRelistNone = 0, kRelistImages = 1, kRelistNetworks = 2, kRelistVolumes = 4 };

// What a batch of events leaves to do: lists to fetch again (Relist bits), and containers to
// read again (their state, ports, names or networks changed: the event does not say how).
struct EventWork {
  unsigned relists = kRelistNone;
  std::vector<std::string> reread;
  bool daemon_reloaded = false;  // its configuration (labels) may have changed: check its /info
};

// Applies a batch of event lines from `host` to the model in one change.
EventWork apply_events(ObjectModel& model, ExecIndex& execs, const std::string& host,
                       const std::vector<std::string_view>& lines);

// Fetches the lists `what` names and puts them in the model (a failed list is logged and
// left: the next sync repairs it). Returns the tags that moved there (seen now: marked now).
transport::Task<std::vector<std::string>> relist(transport::Worker& worker, const transport::Address& address,
                             const std::string& host, ObjectModel& model, unsigned what,
                             std::chrono::milliseconds timeout);

}  // namespace flocker::flock
