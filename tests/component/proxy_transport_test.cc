// flocker-proxy's transport against an in-process fake engine: framing, streaming,
// backpressure, hijack with half-close, refusals, failures, keep-alive, shutdown.
#include <gtest/gtest.h>

#include <grp.h>

#include <thread>

#include "proxy_harness.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

std::string pattern(uint64_t n, uint64_t from = 0) {
  std::string s(n, '\0');
  for (uint64_t i = 0; i < n; ++i) s[i] = pattern_byte(from + i);
  return s;
}

std::string chunked(const std::vector<std::string>& pieces) {
  std::string out;
  char line[32];
  for (const auto& p : pieces) {
    std::snprintf(line, sizeof(line), "%zx\r\n", p.size());
    out += line + p + "\r\n";
  }
  return out + "0\r\n\r\n";
}

class Transport : public ::testing::Test {
 protected:
  FakeEngine engine;
  ProxyHarness proxy{engine.address()};
};

}  // namespace

TEST_F(Transport, ContentLengthBodiesBothWays) {
  RawClient c(proxy.address());
  c.send(request_text("POST", "/echo", "", "hello flock"));
  auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "hello flock");
  EXPECT_EQ(res[http::field::content_length], "11");
}

TEST_F(Transport, ChunkedBodiesBothWays) {
  RawClient c(proxy.address());
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
         chunked({"abc", std::string(70000, 'z'), "end"}));
  auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_TRUE(res.chunked());
  EXPECT_EQ(res.body(), "abc" + std::string(70000, 'z') + "end");
}

TEST_F(Transport, UploadsStreamInPieces) {
  // 64 MiB chunked, like a docker build context or cp upload; the engine checksums it.
  RawClient c(proxy.address());
  c.send("PUT /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  const uint64_t total = 64ull << 20;
  uint64_t sum = 14695981039346656037ull;
  for (uint64_t off = 0; off < total; off += 1 << 20) {
    std::string piece = pattern(1 << 20, off);
    sum = checksum_update(sum, piece.data(), piece.size());
    char line[32];
    std::snprintf(line, sizeof(line), "%zx\r\n", piece.size());
    c.send(line + piece + "\r\n");
  }
  c.send("0\r\n\r\n");
  auto res = c.read_response();
  EXPECT_EQ(res.body(), "bytes=" + std::to_string(total) + " sum=" + std::to_string(sum));
}

TEST_F(Transport, StreamsResponsesWhateverTheirFraming) {
  const uint64_t n = 8ull << 20;
  for (const char* path : {"/stream", "/stream-length"}) {
    RawClient c(proxy.address());
    c.send(request_text("GET", std::string(path) + "?bytes=" + std::to_string(n)));
    auto res = c.read_response();
    EXPECT_EQ(res.body().size(), n) << path;
    EXPECT_TRUE(res.body() == pattern(n)) << path;
  }
  RawClient c(proxy.address());
  c.send(request_text("GET", "/until-eof?bytes=100000"));
  auto res = c.read_response();  // read until close: the proxy passes the EOF framing on
  EXPECT_EQ(res.body(), pattern(100000));
  EXPECT_FALSE(res.keep_alive());
}

TEST_F(Transport, ASlowReaderHoldsBackTheEngine) {
  RawClient c(proxy.address());
  c.set_receive_buffer(64 * 1024);
  c.send(request_text("GET", "/stream-length?bytes=" + std::to_string(1ull << 30)));
  c.read_response_header();
  std::string got;
  while (got.size() < (1u << 20)) got += c.read_some();
  std::this_thread::sleep_for(1s);  // the client stops reading
  const uint64_t written = engine.stream_bytes();
  // Socket buffers on three hops and the proxy's relay buffer: megabytes, not a gigabyte.
  EXPECT_LT(written, 48ull << 20) << "the proxy buffered what the client did not read";
  std::this_thread::sleep_for(300ms);
  EXPECT_LT(engine.stream_bytes() - written, 1u << 20) << "the engine kept going";
  while (got.size() < written + (4u << 20)) got += c.read_some();  // reading resumes the stream
  EXPECT_GT(engine.stream_bytes(), written);
  EXPECT_TRUE(got == pattern(got.size())) << "the stream was damaged";
}

TEST_F(Transport, HijackCarriesTheClientsHalfClose) {
  RawClient c(proxy.address());
  c.send(request_text("POST", "/hijack", "Connection: Upgrade\r\nUpgrade: tcp\r\n"));
  auto head = c.read_response_header();
  EXPECT_EQ(head.result_int(), 101);
  c.send("stdin line\n");
  c.shutdown_write();  // like `echo hi | docker run -i`: stdin ends, output must still come
  EXPECT_EQ(c.read_until_eof(), "stdin line\n[eof]");
}

TEST_F(Transport, HijackCarriesTheEnginesHalfClose) {
  RawClient c(proxy.address());
  c.send(request_text("POST", "/hijack-server-first", "Connection: Upgrade\r\nUpgrade: tcp\r\n"));
  EXPECT_EQ(c.read_response_header().result_int(), 101);
  EXPECT_EQ(c.read_until_eof(), "server done");  // the engine's write half ended...
  c.send("still going");                         // ...and ours still reaches it
  c.shutdown_write();
  for (int i = 0; i < 100 && engine.received_after_half_close().empty(); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(engine.received_after_half_close(), "still going");
}

TEST_F(Transport, BytesSentBeforeTheUpgradeAnswerAreNotLost) {
  RawClient c(proxy.address());
  c.send(request_text("POST", "/hijack", "Connection: Upgrade\r\nUpgrade: tcp\r\n") + "early");
  c.shutdown_write();
  EXPECT_EQ(c.read_response_header().result_int(), 101);
  EXPECT_EQ(c.read_until_eof(), "early[eof]");
}

TEST_F(Transport, LegacyHijackWithoutUpgradeRelaysRaw) {
  RawClient c(proxy.address());
  c.send(request_text("POST", "/legacy-hijack"));
  auto head = c.read_response_header();
  EXPECT_EQ(head.result_int(), 200);
  c.send("raw");
  c.shutdown_write();
  EXPECT_EQ(c.read_until_eof(), "raw[eof]");
}

TEST_F(Transport, MalformedRequestsGet400AndAreNotPassedOn) {
  for (std::string bad : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/1.1\r\nNo colon\r\n\r\n"),
                          std::string("GET nopath HTTP/1.1\r\nHost: x\r\n\r\n"),
                          std::string("GET / HTTP/9.9\r\nHost: x\r\n\r\n")}) {
    RawClient c(proxy.address());
    c.send(bad);
    auto res = c.read_response();
    EXPECT_EQ(res.result_int(), 400) << bad;
    EXPECT_NE(res.body().find("\"message\":"), std::string::npos) << res.body();
    EXPECT_EQ(res[http::field::content_type], "application/json");
    EXPECT_TRUE(c.closed_by_peer()) << bad;
  }
  EXPECT_EQ(engine.requests(), 0u);
}

TEST_F(Transport, OversizedHeadersGet431) {
  RawClient c(proxy.address());
  c.send("GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100 * 1024, 'a') + "\r\n\r\n");
  auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 431);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(engine.requests(), 0u);
}

TEST_F(Transport, SmugglingAttemptsAreRefused) {
  const std::string attempts[] = {
      "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n",
      "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
      "POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      "POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
      "POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
      "POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
  };
  for (const auto& a : attempts) {
    RawClient c(proxy.address());
    c.send(a);
    auto res = c.read_response();
    EXPECT_EQ(res.result_int(), 400) << a;
    EXPECT_TRUE(c.closed_by_peer()) << a;
  }
  EXPECT_EQ(engine.requests(), 0u) << "a refused request reached the engine";
}

// A client refused while it is still sending (say, an upload refused at its header) must get
// the refusal, not a connection reset: the proxy reads on after answering until the client
// stops, instead of closing on unread bytes (which makes the kernel send a RST).
TEST_F(Transport, ARefusalReachesAClientThatIsStillSending) {
  RawClient c(proxy.address());
  c.send("POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" +
         std::string(64 * 1024, 'x'));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the proxy has answered
  c.send(std::string(64 * 1024, 'y'));
  auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_NE(res.body().find("Transfer-Encoding"), std::string::npos) << res.body();
  c.shutdown_write();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(engine.requests(), 0u);
}

TEST_F(Transport, AnEngineThatClosesWithoutAnsweringGets502) {
  RawClient c(proxy.address());
  c.send(request_text("GET", "/close"));
  auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_NE(res.body().find(engine.address()), std::string::npos) << res.body();
}

TEST(TransportEngineDown, UnreachableEnginesGet502NamingThem) {
  std::string closed_port;
  {
    FakeEngine gone;
    closed_port = gone.address();
  }
  for (const std::string& engine : {closed_port, std::string("unix:///nonexistent/docker.sock")}) {
    ProxyHarness proxy(engine);
    RawClient c(proxy.address());
    c.send(request_text("GET", "/v1.41/containers/json"));
    auto res = c.read_response();
    EXPECT_EQ(res.result_int(), 502);
    EXPECT_EQ(res[http::field::content_type], "application/json");
    EXPECT_NE(res.body().find("cannot reach engine " + engine), std::string::npos) << res.body();
    c.send(request_text("GET", "/_ping"));  // the client connection survives
    EXPECT_EQ(c.read_response().result_int(), 502);
  }
}

TEST_F(Transport, KeepAliveReusesEngineConnections) {
  for (int client = 0; client < 3; ++client) {
    RawClient c(proxy.address());
    for (int i = 0; i < 20; ++i) {
      c.send(request_text("GET", "/_ping"));
      auto res = c.read_response();
      ASSERT_EQ(res.result_int(), 200);
      EXPECT_TRUE(res.keep_alive());
    }
  }
  EXPECT_EQ(engine.requests(), 60u);
  EXPECT_EQ(engine.connections(), 1u) << "every request should reuse the pooled connection";
}

TEST_F(Transport, PipelinedRequestsAreAnsweredInOrder) {
  RawClient c(proxy.address());
  c.send(request_text("POST", "/echo", "", "one") + request_text("POST", "/echo", "", "two"));
  EXPECT_EQ(c.read_response().body(), "one");
  EXPECT_EQ(c.read_response().body(), "two");
}

TEST_F(Transport, HopByHopHeadersStayOnTheirHop) {
  RawClient c(proxy.address());
  c.send(request_text("GET", "/headers", "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Keep: yes\r\n"));
  auto seen = c.read_response().body();
  EXPECT_EQ(seen.find("Keep-Alive:"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("Connection:"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Keep: yes"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Request-Id: "), std::string::npos) << seen;
}

TEST_F(Transport, PingPassesTheNegotiationHeaders) {
  RawClient c(proxy.address());
  c.send(request_text("HEAD", "/_ping"));
  auto head = c.read_response(/*head=*/true);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head["Api-Version"], "1.41");
  EXPECT_EQ(head["Ostype"], "linux");
  EXPECT_EQ(head["Docker-Experimental"], "false");
  EXPECT_EQ(head["Builder-Version"], "1");
  c.send(request_text("GET", "/_ping"));  // and the connection goes on after a HEAD
  EXPECT_EQ(c.read_response().body(), "OK");
}

TEST_F(Transport, AClientLeavingAStreamEndsItAtTheEngine) {
  {
    RawClient c(proxy.address());
    c.send(request_text("GET", "/idle-stream"));
    EXPECT_EQ(c.read_response_header().result_int(), 200);
    EXPECT_NE(c.read_some().find("first"), std::string::npos);
  }  // the client goes away while the stream is idle
  for (int i = 0; i < 100 && engine.idle_streams_closed() == 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(engine.idle_streams_closed(), 1u) << "the engine stream outlived its client";
}

TEST(TransportListeners, UnixSocketsBothSides) {
  const std::string engine_sock = temp_path("engine") + ".sock";
  const std::string proxy_sock = temp_path("proxy") + ".sock";
  FakeEngine engine(engine_sock);
  {
    transport::ServerOptions options;
    options.listen = {"unix://" + proxy_sock};
    options.unix_mode = 0600;
    options.unix_group = "daemon";
    ProxyHarness proxy(engine.address(), options);
    struct stat st;
    ASSERT_EQ(::stat(proxy_sock.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_gid, ::getgrnam("daemon")->gr_gid);
    RawClient c("unix://" + proxy_sock);
    c.send(request_text("POST", "/echo", "", "via unix"));
    EXPECT_EQ(c.read_response().body(), "via unix");
  }
  struct stat st;
  EXPECT_NE(::stat(proxy_sock.c_str(), &st), 0) << "the socket file outlived the proxy";
}

TEST(TransportPool, IdleEngineConnectionsExpire) {
  FakeEngine engine;
  transport::ServerOptions options;
  options.pool.idle_timeout = 200ms;
  ProxyHarness proxy(engine.address(), options);
  RawClient c(proxy.address());
  c.send(request_text("GET", "/_ping"));
  c.read_response();
  std::this_thread::sleep_for(700ms);  // past the idle timeout: the pooled connection is gone
  c.send(request_text("GET", "/_ping"));
  EXPECT_EQ(c.read_response().result_int(), 200);
  EXPECT_EQ(engine.connections(), 2u);
}

TEST(TransportShutdown, OpenStreamsGetTheGracePeriodThenClose) {
  FakeEngine engine;
  transport::ServerOptions options;
  options.grace = 600ms;
  ProxyHarness proxy(engine.address(), options);
  RawClient idle(proxy.address());
  idle.send(request_text("GET", "/_ping"));
  idle.read_response();
  RawClient streaming(proxy.address());
  streaming.send(request_text("GET", "/idle-stream"));
  streaming.read_response_header();

  auto started = std::chrono::steady_clock::now();
  proxy.server->shutdown();
  EXPECT_TRUE(idle.closed_by_peer(500ms)) << "an idle keep-alive connection should close at once";
  EXPECT_THROW(RawClient{proxy.address()}, std::exception) << "still accepting after shutdown";
  EXPECT_FALSE(streaming.closed_by_peer(300ms)) << "the stream was cut before its grace period";
  EXPECT_TRUE(streaming.closed_by_peer(2s));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 550ms);
  proxy.server->wait();
}
