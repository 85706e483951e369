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
// A \uD800-\uDFFF escape: a lone surrogate, which Go decodes (as U+FFFD) and simdjson refuses.
bool has_surrogate_escape(std::string_view v) {
  for (std::size_t i = 0; i + 3 < v.size(); ++i) {
    if (v[i] == '\\' && v[i + 1] == 'u' && (v[i + 2] == 'd' || v[i + 2] == 'D') &&
        std::string_view("89abcdefABCDEF").find(v[i + 3]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
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
    // And strings with lone surrogate escapes ("\uDFFF"), which Go accepts (found in CI).
    if (err && err != simdjson::NUMBER_ERROR && err != simdjson::DEPTH_ERROR &&
        !(err == simdjson::STRING_ERROR && has_surrogate_escape(value))) {
      std::fprintf(stderr, "simdjson: %s\n", simdjson::error_message(err));
      fail("Go reads a value simdjson does not");
    }
  }
  return 0;
}
