// The model is fresh for the proxy's own changes: once a state change through the proxy has
// answered, the model has the container's new state, whatever its event is doing (the fake
// engine sends none for stop, kill, pause and unpause), so a read answered from the model
// right after shows it.
#include <gtest/gtest.h>

#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;

TEST(ModelFreshness, AStateChangeThroughTheProxyIsInTheModelWhenItAnswers) {
  FlockHarness f;
  f.e2.set_state_events(false);
  f.e2.add_container("web", "img", 1);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.the_flock->model.snapshot()->container_by_name("web"); }));
  auto state = [&] {
    auto c = f.the_flock->model.snapshot()->container_by_name("web");
    return c ? c->state + (c->running ? "/up" : "/down") : "gone";
  };
  const std::pair<const char*, const char*> steps[] = {
      {"pause", "paused/up"}, {"unpause", "running/up"}, {"stop", "exited/down"},
      {"start", "running/up"}, {"kill", "exited/down"},
  };
  for (const auto& [action, want] : steps) {
    auto res = f.request("POST", "/v1.41/containers/web/" + std::string(action), "");
    ASSERT_EQ(res.result_int(), 204) << action << ": " << res.body();
    EXPECT_EQ(state(), want) << "right after " << action;
  }
  // The engine's answer reaches the client as it was; a failure changes nothing here.
  auto res = f.request("POST", "/v1.41/containers/nothing-here/stop", "");
  EXPECT_EQ(res.result_int(), 404) << res.body();
  EXPECT_FALSE(f.e2.requests("/containers/json").empty()) << "the re-read is a list by ID";
}
