// Fuzzes what the proxy reads of a build before sending it on (docker/build_context.cc): the
// first bytes of a POST /build body as a tar stream (file_in_tar: ustar headers, octal sizes,
// GNU long names, PAX records) and a Dockerfile's FROM lines (dockerfile_images: ARG
// substitution, stages). A client writes every byte of both.
// The input is both at once. Checks: no crash/UB; a file found lies within the input; every
// image named is non-empty.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "docker/build_context.h"

namespace docker = flocker::docker;

namespace {
[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::string_view name : {"Dockerfile", "./sub/Dockerfile.dev"}) {
    if (auto file = docker::file_in_tar(input, name)) {
      if (file->size() > input.size()) fail("a file larger than the stream it came from");
      (void)docker::dockerfile_images(*file, {});
    }
  }
  for (const auto& ref : docker::dockerfile_images(input, {{"BASE", "app"}, {"V", ""}})) {
    if (ref.empty()) fail("an empty image reference");
  }
  return 0;
}
