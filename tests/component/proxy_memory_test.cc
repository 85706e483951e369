// A gigabyte each way through the flocker-proxy binary, with its peak RSS bounded: nothing is
// buffered whole.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "fake_engine.h"
#include "proxy_process.h"
#include "raw_client.h"
#include "subprocess.h"

using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

// The proxy's peak resident set (VmHWM), in KiB.
long peak_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr long kPeakRssLimitKiB = 512 * 1024;  // ASan's shadow memory and quarantine
constexpr uint64_t kGiB = 256ull << 20;        // (a quarter, at ASan's speed)
#else
constexpr long kPeakRssLimitKiB = 48 * 1024;
constexpr uint64_t kGiB = 1ull << 30;
#endif

}  // namespace

TEST(ProxyMemory, AGigabyteDownloadStreamsInBoundedMemory) {
  FakeEngine engine;
  ProxyProcess proxy(FLOCKER_PROXY_BIN, engine.address());
  RawClient c(proxy.address());
  c.send(request_text("GET", "/stream?bytes=" + std::to_string(kGiB)));
  // Decode the chunked body by hand and checksum it, without keeping it.
  auto head = c.read_response_header();
  ASSERT_EQ(head.result_int(), 200);
  ASSERT_TRUE(head.chunked());
  uint64_t got = 0, sum = 14695981039346656037ull, expect = sum;
  std::string pending;
  char piece[65536];
  for (uint64_t i = 0; i < kGiB; i += sizeof(piece)) {
    for (std::size_t k = 0; k < sizeof(piece); ++k) piece[k] = pattern_byte(i + k);
    expect = checksum_update(expect, piece, sizeof(piece));
  }
  // Chunk framing: "<hex>\r\n<data>\r\n" ... "0\r\n\r\n".
  for (;;) {
    auto eol = pending.find("\r\n");
    while (eol == std::string::npos) {
      pending += c.read_some();
      eol = pending.find("\r\n");
    }
    uint64_t size = std::stoull(pending.substr(0, eol), nullptr, 16);
    pending.erase(0, eol + 2);
    if (size == 0) break;
    while (pending.size() < size + 2) pending += c.read_some(size + 2 - pending.size());
    sum = checksum_update(sum, pending.data(), size);
    got += size;
    pending.erase(0, size + 2);
  }
  EXPECT_EQ(got, kGiB);
  EXPECT_EQ(sum, expect) << "the stream arrived damaged";
  const long peak = peak_rss_kib(proxy.process.pid());
  std::cout << "[ metric ] proxy peak RSS after a 1 GiB download: " << peak / 1024.0 << " MiB\n";
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak, kPeakRssLimitKiB);
}

TEST(ProxyMemory, AGigabyteUploadStreamsInBoundedMemory) {
  FakeEngine engine;
  ProxyProcess proxy(FLOCKER_PROXY_BIN, engine.address());
  RawClient c(proxy.address());
  c.send("PUT /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  uint64_t sum = 14695981039346656037ull;
  std::string piece(1 << 20, '\0');
  for (uint64_t off = 0; off < kGiB; off += piece.size()) {
    for (std::size_t k = 0; k < piece.size(); ++k) piece[k] = pattern_byte(off + k);
    sum = checksum_update(sum, piece.data(), piece.size());
    c.send("100000\r\n");
    c.send(piece);
    c.send("\r\n");
  }
  c.send("0\r\n\r\n");
  auto res = c.read_response();
  EXPECT_EQ(res.body(), "bytes=" + std::to_string(kGiB) + " sum=" + std::to_string(sum));
  const long peak = peak_rss_kib(proxy.process.pid());
  std::cout << "[ metric ] proxy peak RSS after a 1 GiB upload: " << peak / 1024.0 << " MiB\n";
  EXPECT_LT(peak, kPeakRssLimitKiB);
}
