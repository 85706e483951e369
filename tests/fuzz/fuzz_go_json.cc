// Fuzzes docker::go_decode (docker/go_json.cc), the port of Go's encoding/json scanner that
// decides which bytes of a request body the engine reads (its first JSON value) and
// whether it reads any: the policy and placement read exactly those bytes, so a mistake
// here lets a body mean one thing to the proxy and another to the engine.
// Checks: no crash/UB; the value ends within the body; decoding the value alone gives the
// same value; a value Go accepts is JSON simdjson accepts too (when it is valid UTF-8).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "docker/go_json.h"
#include "docker/json.h"

namespace docker = flocker::docker;

namespace {
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const docker::GoDecode d = docker::go_decode(body);
  if (!d.ok) {
    if (d.error.empty()) fail("an error without words");
    return 0;
  }
  if (d.end > body.size()) fail("the value ends past the body");
  const std::string_view value = body.substr(0, d.end);
  const docker::GoDecode again = docker::go_decode(value);
  if (!again.ok || again.end != d.end) fail("the value alone decodes otherwise");
  if (simdjson::validate_utf8(value.data(), value.size())) {
    docker::dom::parser parser;
    docker::dom::element root;
    auto err = parser.parse(value.data(), value.size()).get(root);
    // simdjson refuses numbers out of double's range (Go's syntax pass does not look).
    if (err && err != simdjson::NUMBER_ERROR &&
        err != simdjson::DEPTH_ERROR) {
      std::fprintf(stderr, "simdjson: %s\n", simdjson::error_message(err));
      fail("Go reads a value simdjson does not");
    }
  }
  return 0;
}
