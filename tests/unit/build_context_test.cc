// What the proxy reads of a build before sending it on (docker/build_context.h): a file from
// the start of a tar stream, and the images a Dockerfile starts from.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "docker/build_context.h"

using namespace flocker::docker;

namespace {

// One tar entry as Go's archive/tar writes it (ustar; `type` '0' a file, 'x' PAX, 'L' GNU).
std::string entry(const std::string& name, const std::string& content, char type = '0') {
  std::string header(512, '\0');
  header.replace(0, std::min<std::size_t>(name.size(), 100), name.substr(0, 100));
  header.replace(100, 7, "0000644");
  header.replace(124, 11, fmt::format("{:011o}", content.size()));
  header[156] = type;
  header.replace(257, 6, std::string("ustar\0", 6));
  header.replace(263, 2, "00");
  std::string data = content;
  data.resize((content.size() + 511) / 512 * 512, '\0');
  return header + data;
}

const std::string kEnd(1024, '\0');

}  // namespace

TEST(BuildContext, AFileFromTheStartOfATar) {
  const std::string tar = entry(".dockerignore", "*.log\n") + entry("Dockerfile", "FROM app:1\n") +
                          entry("src/main.c", std::string(3000, 'x')) + kEnd;
  EXPECT_EQ(file_in_tar(tar, "Dockerfile"), "FROM app:1\n");
  EXPECT_EQ(file_in_tar(tar, "./Dockerfile"), "FROM app:1\n");
  EXPECT_EQ(file_in_tar(tar, "src/main.c")->size(), 3000u);
  EXPECT_FALSE(file_in_tar(tar, "Dockerfile.dev"));
  // Cut off inside the file: not there whole.
  EXPECT_FALSE(file_in_tar(tar.substr(0, 512 * 3 + 512 + 100), "src/main.c"));
  EXPECT_EQ(file_in_tar(tar.substr(0, 512 * 4), "Dockerfile"), "FROM app:1\n") << "enough of a prefix";
  // Not a tar (a gzipped context): nothing.
  EXPECT_FALSE(file_in_tar(std::string("\x1f\x8b\x08\x00", 4) + std::string(2000, 'z'), "Dockerfile"));
}

TEST(BuildContext, LongNamesFromPaxAndGnuHeaders) {
  const std::string deep = std::string(120, 'd') + "/Dockerfile";
  const std::string record = fmt::format(" path={}\n", deep);
  std::string pax = fmt::format("{}{}", record.size() + 3, record);  // "LEN path=...\n", LEN counting itself
  ASSERT_EQ(std::to_string(pax.size()).size(), 3u);
  const std::string tar = entry("PaxHeaders/x", pax, 'x') + entry(deep.substr(0, 100), "FROM deep:1\n") +
                          entry("././@LongLink", deep + "2" + std::string(1, '\0'), 'L') +
                          entry(deep.substr(0, 100), "FROM gnu:1\n") + kEnd;
  EXPECT_EQ(file_in_tar(tar, deep), "FROM deep:1\n");
  EXPECT_EQ(file_in_tar(tar, deep + "2"), "FROM gnu:1\n");
}

TEST(BuildContext, TheImagesADockerfileStartsFrom) {
  const std::string dockerfile = R"(# syntax=docker/dockerfile:1
ARG BASE=app
ARG VERSION
FROM --platform=linux/amd64 ${BASE}:${VERSION:-1} AS build
RUN make \
    install
FROM scratch AS empty
FROM build
COPY --from=build /out /out
COPY --from=tools:2 /bin/tool /bin/
COPY --from=0 /x /y
from $UNKNOWN
FROM 127.0.0.1:5000/base@sha256:abc
)";
  EXPECT_EQ(dockerfile_images(dockerfile, {}),
            (std::vector<std::string>{"app:1", "tools:2", "127.0.0.1:5000/base@sha256:abc"}));
  EXPECT_EQ(dockerfile_images(dockerfile, {{"BASE", "other"}, {"VERSION", "7"}, {"UNDECLARED", "x"}}),
            (std::vector<std::string>{"other:7", "tools:2", "127.0.0.1:5000/base@sha256:abc"}))
      << "build args win over defaults, only for declared ARGs";
  EXPECT_EQ(dockerfile_images("FROM app\nFROM app\r\nFROM Scratch\n", {}), (std::vector<std::string>{"app"}));
}
