// Keeping one host's part of the object model true: a full listing (at start, and after its
// event stream was lost or reopened), and then the engine's own events as they come.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "flock/exec_index.h"
#include "flock/object_model.h"
#include "transport/address.h"
#include "transport/worker.h"

namespace flocker::flock {

// Lists everything `host` holds (containers, images, volumes, networks) and replaces its part
// of the model, synced. False, and the model untouched, when any list failed.
transport::Task<bool> sync_host(transport::Worker& worker, const transport::Address& address,
                                const std::string& host, ObjectModel& model,
                                std::chrono::milliseconds timeout);

// Which of a host's lists an event is better answered by (the event alone does not say
// enough: an image's tags after a tag or untag, a new network's scope, the ports a container
// publishes once it starts or stops).
enum Relist : unsigned { kRelistNone = 0, kRelistImages = 1, kRelistNetworks = 2, kRelistContainers = 4 };

// Applies a batch of event lines from `host` to the model in one change; returns the lists
// to fetch again (Relist bits).
unsigned apply_events(ObjectModel& model, ExecIndex& execs, const std::string& host,
                      const std::vector<std::string_view>& lines);

// Fetches the lists `what` names and puts them in the model (a failed list is logged and
// left: the next sync repairs it).
transport::Task<void> relist(transport::Worker& worker, const transport::Address& address,
                             const std::string& host, ObjectModel& model, unsigned what,
                             std::chrono::milliseconds timeout);

}  // namespace flocker::flock
