// What `docker ps` answered from the object model needs from a host's tables, beyond each
// container's own entry: the IDs an `id` filter names there, the images an `ancestor` filter
// selects there, and the Image a container shows now.
#pragma once

#include <string>

#include "docker/ps_query.h"
#include "flock/model/object_model.h"
#include "transport/exchange.h"

namespace flocker::flock {

// The host part of a query's context (since/before are the caller's: they span hosts).
docker::PsHostContext ps_context(const docker::PsQuery& q, const HostObjects& host);

// dockerd's refreshImage: the name it was created from while that name still means the image
// it runs, else the image's ID.
std::string shown_image(const HostObjects& host, const docker::ListedContainer& c);

// Whether the client asked for a read from the engines themselves (Cache-Control: no-cache),
// as a check of what memory answers.
bool live_read_requested(transport::Exchange& ex);

}  // namespace flocker::flock
