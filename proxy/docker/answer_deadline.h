// How long an engine may take to start answering a request relayed for a client, by what the
// request asks. Most answers start at once (inspect, create, start; a stream's header comes
// before its first line), so `base` is a bound on a hung engine. Some legitimately take as
// long as the work they do before answering: those get no deadline, and only the health
// check's finding that the engine is down ends them.
#pragma once

#include <chrono>

#include "docker/route_table.h"

namespace flocker::docker {

// 0 = no deadline.
std::chrono::milliseconds answer_deadline(transport::http::verb method, const Route& route,
                                          std::chrono::milliseconds base);

}  // namespace flocker::docker
