// Times as docker writes them (Go's RFC 3339 with nanoseconds), moved on: a cached /info's
// SystemTime made "now" by adding how old the cached answer is.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flocker::docker {

// "2026-11-30T04:51:19.207858657Z" (docker's Created, LastTagTime) as nanoseconds since the
// epoch; 0 for Go's zero time and for what is not a time.
int64_t unix_nanos(std::string_view rfc3339);

// `text` (RFC 3339, as parse_docker_time reads it) plus `by`, written as Go's
// time.RFC3339Nano writes it, in the same zone offset ("Z" or "+01:00"): the fraction
// without trailing zeros, none when whole. nullopt when `text` is not such a time.
std::optional<std::string> shift_docker_time(std::string_view text, std::chrono::nanoseconds by);

}  // namespace flocker::docker
