// An image anywhere in the flock is an image everywhere: a create placed on a host without
// its image gets the image copied from a host that has it (streamed, checksummed, bounded
// memory), once however many creates wait for it, and only an image no host has answers
// "No such image".
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "fake_engine.h"
#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

// Route every create to `host`.
void route_to(FlockHarness& f, const std::string& host) {
  f.decider.on_route = [host](const v1::RouteRequest&, v1::RouteResponse& resp) {
    resp.add_hosts(host);
    return grpc::Status::OK;
  };
}

// This process's peak resident memory, in KiB.
long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

void wait_known(FlockHarness& f, const std::string& host, const std::string& image) {
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image(host, image); }));
}

}  // namespace

TEST(ImageCopy, AnImageOnAnotherHostIsCopiedThereBeforeTheCreate) {
  FlockHarness f;
  f.e2.add_image("app:1", "", 300 * 1024);
  wait_known(f, "e2", "app:1");
  route_to(f, "e1");
  auto res = f.request("POST", "/v1.41/containers/create?name=one", R"({"Image":"app:1"})");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  auto loads = f.e1.loads();
  ASSERT_EQ(loads.size(), 1u);
  const auto sent = f.e2.image_archive("app:1");
  EXPECT_EQ(loads[0].bytes, sent.bytes);
  EXPECT_EQ(loads[0].sum, sent.sum) << "the archive arrived byte for byte";
  EXPECT_TRUE(f.e1.has_image("app:1"));
  EXPECT_TRUE(f.e1.has_container("one"));
  // The decider saw where the image was.
  {
    std::lock_guard lock(f.decider.mu);
    for (const auto& c : f.decider.routes.back().candidates()) {
      EXPECT_EQ(c.image(), c.name() == "e2" ? v1::IMAGE_PRESENCE_PRESENT : v1::IMAGE_PRESENCE_ABSENT) << c.name();
    }
  }
  // Now e1 has it: a second create copies nothing.
  auto again = f.request("POST", "/v1.41/containers/create", R"({"Image":"app:1"})");
  EXPECT_EQ(again.result_int(), 201) << again.body();
  EXPECT_EQ(f.e1.loads().size(), 1u);
}

TEST(ImageCopy, ByIdAndByShortIdToo) {
  FlockHarness f;
  const std::string id = "sha256:" + std::string(64, 'b');
  f.e3.add_image("built:latest", id, 4096);
  wait_known(f, "e3", "built:latest");
  route_to(f, "e2");
  auto res = f.request("POST", "/v1.41/containers/create", R"({"Image":"bbbbbbbbbbbb"})");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  ASSERT_EQ(f.e2.loads().size(), 1u);
  EXPECT_EQ(f.e2.requests("/images/load").size(), 1u);
  EXPECT_EQ(f.e3.requests("/images/bbbbbbbbbbbb/get").size(), 1u);
}

TEST(ImageCopy, ManyCreatesWaitingForOneImageCopyItOnce) {
  FlockHarness f;
  f.e3.add_image("app:2", "", 2 << 20);
  wait_known(f, "e3", "app:2");
  route_to(f, "e1");
  std::vector<std::thread> clients;
  std::vector<unsigned> statuses(6);
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    clients.emplace_back([&, i] {
      statuses[i] = f.request("POST", "/v1.41/containers/create", R"({"Image":"app:2"})").result_int();
    });
  }
  for (auto& t : clients) t.join();
  for (auto s : statuses) EXPECT_EQ(s, 201u);
  EXPECT_EQ(f.e1.loads().size(), 1u);
}

TEST(ImageCopy, AnImageNoHostHasIsDockersNoSuchImageSoTheClientPulls) {
  FlockHarness f;
  route_to(f, "e1");
  auto res = f.request("POST", "/v1.41/containers/create", R"({"Image":"nowhere:1"})");
  EXPECT_EQ(res.result_int(), 404) << res.body();
  EXPECT_NE(res.body().find("No such image: nowhere:1"), std::string::npos) << res.body();
  for (auto* e : {&f.e1, &f.e2, &f.e3}) EXPECT_TRUE(e->loads().empty());
}

TEST(ImageCopy, AFailedCopyLeavesTheCreateToAnswer) {
  FlockHarness f;
  f.e2.add_image("app:3", "", 64 * 1024);
  wait_known(f, "e2", "app:3");
  f.e2.stop();  // the holder is gone before the health check notices
  route_to(f, "e1");
  auto res = f.request("POST", "/v1.41/containers/create", R"({"Image":"app:3"})");
  EXPECT_EQ(res.result_int(), 404) << "the engine's own answer: " << res.body();
}

#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kSize = 64ull << 20;        // (a quarter, at ASan's speed)
constexpr long kGrowthLimitKiB = 512 * 1024;  // ASan's quarantine keeps what was freed
#else
constexpr uint64_t kSize = 256ull << 20;
constexpr long kGrowthLimitKiB = 48 * 1024;
#endif

TEST(ImageCopy, A256MiBImageIsStreamedInBoundedMemory) {
  FlockHarness f;
  f.e2.add_image("big:1", "", kSize);
  wait_known(f, "e2", "big:1");
  route_to(f, "e3");
  const long before = peak_rss_kib();
  auto res = f.request("POST", "/v1.41/containers/create", R"({"Image":"big:1"})");
  const long after = peak_rss_kib();
  ASSERT_EQ(res.result_int(), 201) << res.body();
  auto loads = f.e3.loads();
  ASSERT_EQ(loads.size(), 1u);
  const auto sent = f.e2.image_archive("big:1");
  EXPECT_EQ(loads[0].bytes, sent.bytes);
  EXPECT_EQ(loads[0].sum, sent.sum);
  // The proxy and both fake engines share this process: all of them together stay far
  // below the image's size.
  EXPECT_LT(after - before, kGrowthLimitKiB) << "peak RSS grew by " << (after - before) << " KiB for a "
                                            << (kSize >> 20) << " MiB copy";
  RecordProperty("peak_rss_growth_kib", std::to_string(after - before));
  std::cout << "peak RSS grew by " << (after - before) << " KiB for a " << (kSize >> 20) << " MiB copy\n";
}
