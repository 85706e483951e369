// Fuzzes the built-in policy's JSON reader (docker::check_body, docker/policy.cc): a request
// body read as the engine's Go decoder reads it (go_decode, then simdjson, field names
// case-insensitive, every repeat counting) to refuse host access (privileged, host
// namespaces, capabilities, host mounts, devices, unconfined profiles). The body is the
// client's; a reader that crashes, or that lets through what a stricter setting refuses,
// is a hole in the policy.
// The input is a request body, checked as every endpoint whose body the policy reads:
// container create, start (API < 1.24), update, exec create, volume create.
// Checks: no crash/UB; monotonic: what is refused with some host access allowed is refused
// with none allowed.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "docker/policy.h"
#include "docker/route_table.h"

namespace docker = flocker::docker;
using flocker::transport::http::verb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  static const docker::Route routes[] = {
      docker::classify(verb::post, "/v1.41/containers/create?name=x"),
      docker::classify(verb::post, "/containers/abc/start"),
      docker::classify(verb::post, "/v1.41/containers/abc/update"),
      docker::classify(verb::post, "/v1.41/containers/abc/exec"),
      docker::classify(verb::post, "/v1.41/volumes/create"),
  };
  docker::PolicyOptions strict;
  docker::PolicyOptions some;  // half the host access allowed, by the body's length
  some.allow.privileged = size & 1;
  some.allow.host_namespaces = size & 2;
  some.allow.cap_add = size & 4;
  some.allow.host_mounts = size & 8;
  some.allow.devices = size & 16;
  some.allow.unconfined = size & 32;
  for (const auto& route : routes) {
    if (!docker::body_is_checked(route, verb::post)) std::abort();
    const auto a = docker::check_body(strict, route, verb::post, body);
    const auto b = docker::check_body(some, route, verb::post, body);
    if (b && !a) {
      std::fprintf(stderr, "refused with more allowed (%s) but not with less\n", b->c_str());
      std::abort();
    }
  }
  return 0;
}
