// The flocker-proxy binary and its signals: one SIGTERM drains for the grace period, a second
// one ends every connection at once and the process exits.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "fake_engine.h"
#include "proxy_process.h"

using namespace flocker::test;
using namespace std::chrono_literals;

TEST(ProxySignals, ASecondSignalWithClientsConnectedExitsWithinASecond) {
  for (int round = 0; round < 3; ++round) {  // it hung 3 of 3 times before the fix
    FakeEngine engine;
    ProxyProcess proxy(FLOCKER_PROXY_BIN, engine.address(), {"--grace", "30"});
    RawClient keep_alive(proxy.address());  // an idle keep-alive connection
    keep_alive.send(request_text("GET", "/_ping"));
    ASSERT_EQ(keep_alive.read_response().result_int(), 200);
    RawClient stream(proxy.address());  // a stream that never ends (docker events)
    stream.send(request_text("GET", "/idle-stream"));
    ASSERT_EQ(stream.read_response_header().result_int(), 200);
    proxy.process.signal(SIGTERM);
    EXPECT_FALSE(proxy.process.wait_for(300ms)) << "the grace period keeps the stream";
    const auto second = std::chrono::steady_clock::now();
    proxy.process.signal(SIGTERM);
    auto code = proxy.process.wait_for(1s);
    ASSERT_TRUE(code) << "still running a second after the second signal: " << proxy.process.output();
    EXPECT_EQ(*code, 0);
    std::cout << "[ metric ] exited " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::steady_clock::now() - second).count()
              << " ms after the second signal\n";
    EXPECT_TRUE(stream.closed_by_peer(1s));
  }
}
