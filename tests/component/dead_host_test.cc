// No request waits on a dead engine. A frozen engine (a SIGSTOPped dockerd: connections are
// accepted, nothing is answered) is checked as soon as a request to it is slow, and once
// found down every request in flight to it ends: owner requests with a 502 naming it, reads
// from every host without it (and saying so). An engine that answers its pings but never a
// request, or half of one, is bounded by the answer deadline; one that resets a stream ends
// the client's stream. Streams are not cut for being slow.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// Slow answers are checked after 300 ms; an answer may take `answer` to start.
void quick(flock::FlockOptions& o, std::chrono::milliseconds answer) {
  o.slow_answer = 300ms;
  o.answer_timeout = answer;
}

bool left_out_names(const http::response<http::string_body>& res, const std::string& host) {
  auto it = res.find("X-Flocker-Left-Out");
  return it != res.end() && std::string(it->value()).find(host) != std::string::npos;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

TEST(DeadHosts, AFrozenEngineEndsTheRequestsWaitingOnItAndReadsGoOnWithoutIt) {
  FlockHarness f({}, 500ms, std::nullopt, {}, [](flock::FlockOptions& o) { quick(o, 60s); });
  f.e1.add_container("web1", "busybox", 100);
  const std::string on_e2 = f.e2.add_container("web2", "busybox", 200);
  // (The proxy knows where web2 is: e2's listing is done, as it is long before any engine
  // fails in practice. A container on a host never listed is not known to be anywhere.)
  ASSERT_TRUE(FlockHarness::eventually([&] {
    auto model = f.the_flock->model.snapshot();
    const auto* e2 = model->host("e2");
    return e2 && e2->synced && model->container(on_e2).found == flock::ModelSnapshot::Found::kOne;
  }, 10s));

  f.e2.freeze(true);
  const auto frozen_at = Clock::now();
  // In flight at once: an owner request to the frozen engine, and a live read of every host.
  auto inspect = std::async(std::launch::async, [&] { return f.request("GET", "/containers/" + on_e2 + "/top"); });
  auto ps = std::async(std::launch::async, [&] {
    return f.request("GET", "/containers/json?all=1", "", "Cache-Control: no-cache\r\n");
  });
  auto owner = inspect.get();
  auto listed = ps.get();
  // Found down by a check (the slow answer asked for it at once, its ping timing out after
  // the 2 s engine timeout), far sooner than the 60 s answer deadline.
  EXPECT_LT(seconds_since(frozen_at), 20.0);
  EXPECT_EQ(owner.result_int(), 502);
  EXPECT_NE(owner.body().find("e2"), std::string::npos) << owner.body();
  EXPECT_NE(owner.body().find("\"message\""), std::string::npos) << owner.body();
  EXPECT_EQ(listed.result_int(), 200);
  EXPECT_NE(listed.body().find("web1"), std::string::npos);
  EXPECT_EQ(listed.body().find("web2"), std::string::npos);
  EXPECT_TRUE(left_out_names(listed, "e2")) << listed.base();

  // While it is down: reads say it is left out, its objects answer 502 at once.
  auto volumes = f.request("GET", "/volumes");
  EXPECT_EQ(volumes.result_int(), 200);
  EXPECT_TRUE(left_out_names(volumes, "e2"));
  EXPECT_NE(volumes.body().find("left out"), std::string::npos) << volumes.body();  // in Warnings
  const auto t = Clock::now();
  EXPECT_EQ(f.request("GET", "/containers/" + on_e2 + "/top").result_int(), 502);
  EXPECT_LT(seconds_since(t), 1.0);

  // Resumed: it is back in every answer.
  f.e2.freeze(false);
  ASSERT_TRUE(f.wait_healthy(3));
  ASSERT_TRUE(FlockHarness::eventually([&] {
    auto r = f.request("GET", "/containers/json?all=1", "", "Cache-Control: no-cache\r\n");
    return r.body().find("web2") != std::string::npos && !left_out_names(r, "e2");
  }));
  EXPECT_LT(f.request("GET", "/containers/" + on_e2 + "/top").result_int(), 300);
}

TEST(DeadHosts, AnEngineThatNeverAnswersARequestGetsA502AtTheDeadline) {
  FlockHarness f({}, 500ms, std::nullopt, {}, [](flock::FlockOptions& o) { quick(o, 1500ms); });
  const std::string id = f.e2.add_container("web2", "busybox", 200);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.request("GET", "/containers/web2/json").result_int() == 200; }));
  // It answers its pings: the host stays healthy, and the deadline ends each request.
  f.e2.set_fault("/containers/" + id + "/top", FakeDocker::Fault::kNever);
  f.e2.set_fault("/containers/" + id + "/json", FakeDocker::Fault::kNever);
  for (const std::string action : {"top", "json"}) {
    const auto t = Clock::now();
    auto res = f.request("GET", "/containers/" + id + "/" + action);
    EXPECT_EQ(res.result_int(), 502) << action;
    EXPECT_NE(res.body().find("e2"), std::string::npos) << res.body();
    EXPECT_GE(seconds_since(t), 1.4) << action;
  }
  EXPECT_TRUE(f.wait_healthy(3));
  // The same request without the fault works on the same host.
  f.e2.set_fault("/containers/" + id + "/top", FakeDocker::Fault::kNone);
  EXPECT_LT(f.request("GET", "/containers/" + id + "/top").result_int(), 300);
}

TEST(DeadHosts, HalfAnAnswerEndsAtTheDeadline) {
  FlockHarness f({}, 500ms, std::nullopt, {}, [](flock::FlockOptions& o) { quick(o, 1500ms); });
  const std::string id = f.e2.add_container("web2", "busybox", 200);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.request("GET", "/containers/web2/json").result_int() == 200; }));
  // Read whole by the proxy (inspect): a 502.
  f.e2.set_fault("/containers/" + id + "/json", FakeDocker::Fault::kHalf);
  auto inspect = f.request("GET", "/containers/" + id + "/json");
  EXPECT_EQ(inspect.result_int(), 502);
  EXPECT_NE(inspect.body().find("e2"), std::string::npos) << inspect.body();
  // Relayed (top): the header has gone to the client, so the connection closes, short.
  f.e2.set_fault("/containers/" + id + "/top", FakeDocker::Fault::kHalf);
  RawClient c(f.address(), 10s);
  c.send(request_text("GET", "/containers/" + id + "/top"));
  auto head = c.read_response_header();
  EXPECT_EQ(head.result_int(), 200);
  const auto t = Clock::now();
  EXPECT_TRUE(c.closed_by_peer(8s));
  EXPECT_LT(seconds_since(t), 8.0);
  EXPECT_EQ(f.request("GET", "/_ping").result_int(), 200);
}

TEST(DeadHosts, AContainerNoAnsweringHostHoldsIsA502NamingTheHostThatDidNot) {
  FlockHarness f({}, 500ms, std::nullopt, {}, [](flock::FlockOptions& o) { quick(o, 1500ms); });
  f.e2.add_container("web2", "busybox", 200);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.request("GET", "/containers/web2/json").result_int() == 200; }));
  // No host has it; e1 and e3 say so, e2 cannot: "No such container" would be a guess.
  const std::string id(64, 'c');
  f.e2.set_fault("/containers/" + id + "/json", FakeDocker::Fault::kReset);
  auto inspect = f.request("GET", "/containers/" + id + "/json");
  EXPECT_EQ(inspect.result_int(), 502) << inspect.body();
  EXPECT_NE(inspect.body().find("host e2"), std::string::npos) << inspect.body();
  // Once every host answers, it is docker's 404.
  f.e2.set_fault("/containers/" + id + "/json", FakeDocker::Fault::kNone);
  EXPECT_EQ(f.request("GET", "/containers/" + id + "/json").result_int(), 404);
}

TEST(DeadHosts, AStreamResetByItsEngineEndsTheClientsStream) {
  FlockHarness f({}, 500ms, std::nullopt, {}, [](flock::FlockOptions& o) { quick(o, 1500ms); });
  const std::string id = f.e2.add_container("web2", "busybox", 200);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.request("GET", "/containers/web2/json").result_int() == 200; }));
  f.e2.set_fault("/containers/" + id + "/logs", FakeDocker::Fault::kReset);
  RawClient c(f.address(), 10s);
  c.send(request_text("GET", "/containers/" + id + "/logs?follow=1&stdout=1"));
  auto head = c.read_response_header();
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_TRUE(c.closed_by_peer(5s));  // ended, not hung
  // The engine itself is fine: its other requests go on.
  EXPECT_EQ(f.request("GET", "/containers/" + id + "/json").result_int(), 200);
}

TEST(DeadHosts, AQuietStreamIsNotCutAndOutlivesAnotherEnginesDeath) {
  FlockHarness f({}, 500ms, std::nullopt, {}, [](flock::FlockOptions& o) { quick(o, 1000ms); });
  RawClient c(f.address(), 20s);
  c.send(request_text("GET", "/events"));
  auto head = c.read_response_header();
  ASSERT_EQ(head.result_int(), 200);
  // Quiet for longer than the answer deadline: still open.
  std::this_thread::sleep_for(2500ms);
  f.e1.emit_event(R"({"Type":"container","Action":"quiet-then-this","Actor":{"ID":"x"},"time":1})");
  std::string got;
  while (got.find("quiet-then-this") == std::string::npos) got += c.read_some();
  // Another engine freezes and is found down: this stream goes on with the others.
  f.e2.freeze(true);
  ASSERT_TRUE(FlockHarness::eventually([&] {
    auto hosts = f.the_flock->inventory.snapshot();
    for (const auto& h : *hosts) if (h.name == "e2") return !h.healthy;
    return false;
  }, 15s));
  f.e3.emit_event(R"({"Type":"container","Action":"after-e2-died","Actor":{"ID":"y"},"time":2})");
  got.clear();
  while (got.find("after-e2-died") == std::string::npos) got += c.read_some();
  f.e2.freeze(false);
}
