// Fuzzes the pure part of the merged line streams (flock/routes/line_merge.cc): an engine's
// /events or progress (pull, push, load, build) body is cut into lines by
// transport::LineSplitter, in whatever pieces the engine's chunks bring, and each line is
// tagged with its host (docker::tag_event, docker::tag_progress) and read by the object
// model (docker::parse_event). The bytes are an engine's (or a registry's, through the
// engine's progress messages).
// The first 2 input bytes draw the pieces; the rest is the stream. Checks: the same lines
// whatever the pieces; a tagged progress message that was a JSON object is a JSON object
// with a string "id"; any other line passes unchanged; a tagged compact JSON event is JSON.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "docker/events.h"
#include "docker/json.h"
#include "docker/objects.h"
#include "docker/progress.h"
#include "transport/client_call.h"

namespace docker = flocker::docker;

namespace {

[[noreturn]] void fail(const char* what, std::string_view line) {
  std::fprintf(stderr, "invariant broken: %s\nline: %.*s\n", what, static_cast<int>(line.size()),
               line.data());
  std::abort();
}

std::vector<std::string> split(std::string_view stream, uint32_t seed, bool pieces) {
  std::vector<std::string> lines;
  flocker::transport::LineSplitter splitter(4096);
  std::size_t at = 0;
  while (at < stream.size()) {
    std::size_t n = stream.size() - at;
    if (pieces) {
      seed = seed * 1103515245u + 12345u;
      n = std::min<std::size_t>(n, 1 + (seed >> 16) % 13);
    }
    splitter.feed(stream.substr(at, n), [&](std::string_view l) { lines.emplace_back(l); });
    at += n;
  }
  return lines;
}

bool json_object(std::string_view s, docker::dom::parser& parser, docker::dom::element& root) {
  return !parser.parse(s.data(), s.size()).get(root) && root.is_object();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint32_t seed = data[0] | (static_cast<uint32_t>(data[1]) << 8);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto lines = split(stream, seed, false);
  if (split(stream, seed, true) != lines) fail("lines differ with the pieces", stream);

  docker::dom::parser parser;
  docker::dom::element root;
  for (const std::string& line : lines) {
    (void)docker::parse_event(line);

    const std::string progress = docker::tag_progress(line, "host-1");
    if (json_object(line, parser, root)) {
      if (!json_object(progress, parser, root)) fail("tagged progress is not a JSON object", line);
      // Some "id" names the host (a line may repeat a key, the first not a string: found in CI).
      bool tagged = false;
      for (auto field : root.get_object()) {
        std::string_view id;
        if (field.key == "id" && !field.value.get_string().get(id)) tagged = tagged || id.starts_with("host-1");
      }
      if (!tagged) fail("tagged progress has no host id", line);
    } else if (progress != line) {
      fail("a line that is not an object was changed", line);
    }

    // Engines write events compact (Go's json.Marshal): minify what parses, as they would.
    if (!json_object(line, parser, root)) continue;
    const std::string compact = simdjson::minify(root);
    const std::string event = docker::tag_event(compact, "host-1");
    if (!json_object(event, parser, root)) fail("tagged event is not JSON", compact);
  }
  (void)docker::progress_error(stream);
  return 0;
}
