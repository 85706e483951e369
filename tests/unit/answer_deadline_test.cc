// Which client requests an engine must start answering within the deadline, and which
// answer only after their work (docker/answer_deadline.h).
#include <gtest/gtest.h>

#include "docker/answer_deadline.h"
#include "docker/bounded_regex.h"

using namespace flocker::docker;
using namespace std::chrono_literals;
namespace http = flocker::transport::http;

namespace {

std::chrono::milliseconds deadline(http::verb method, const char* target) {
  return answer_deadline(method, classify(method, target), 60s);
}

}  // namespace

TEST(AnswerDeadline, QuickAnswersAndStreamsStartWithinTheBase) {
  EXPECT_EQ(deadline(http::verb::get, "/v1.41/containers/abc/json"), 60s);
  EXPECT_EQ(deadline(http::verb::post, "/v1.41/containers/create?name=x"), 60s);
  EXPECT_EQ(deadline(http::verb::post, "/v1.41/containers/abc/start"), 60s);
  EXPECT_EQ(deadline(http::verb::get, "/v1.41/containers/abc/logs?follow=1"), 60s);  // its header
  EXPECT_EQ(deadline(http::verb::post, "/v1.41/containers/abc/attach?stream=1"), 60s);
  EXPECT_EQ(deadline(http::verb::get, "/v1.41/containers/json"), 60s);
  EXPECT_EQ(deadline(http::verb::get, "/v1.41/containers/abc/archive?path=/x"), 60s);  // cp out
}

TEST(AnswerDeadline, AnswersAfterTheirWorkHaveNone) {
  for (auto [method, target] : std::initializer_list<std::pair<http::verb, const char*>>{
           {http::verb::post, "/v1.41/containers/abc/wait"},
           {http::verb::post, "/v1.41/images/create?fromImage=busybox"},
           {http::verb::post, "/v1.41/images/busybox/push"},
           {http::verb::get, "/v1.41/images/busybox/get"},
           {http::verb::get, "/v1.41/images/get?names=busybox"},
           {http::verb::post, "/v1.41/images/load"},
           {http::verb::post, "/v1.41/build?t=x"},
           {http::verb::post, "/v1.41/commit?container=abc"},
           {http::verb::get, "/v1.41/containers/abc/export"},
           {http::verb::put, "/v1.41/containers/abc/archive?path=/"},
           {http::verb::post, "/v1.41/containers/prune"},
           {http::verb::get, "/v1.41/system/df"},
           {http::verb::post, "/v1.41/containers/abc/stop"},
       }) {
    EXPECT_EQ(deadline(method, target), 0ms) << target;
  }
}

TEST(AnswerDeadline, StopWithATimeoutWaitsThatMuchLonger) {
  EXPECT_EQ(deadline(http::verb::post, "/v1.41/containers/abc/stop?t=30"), 90s);
  EXPECT_EQ(deadline(http::verb::post, "/v1.41/containers/abc/restart?t=0"), 60s);
  EXPECT_EQ(deadline(http::verb::post, "/v1.41/containers/abc/stop?t=-1"), 0ms);  // waits forever
}

TEST(BoundedRegex, OrdinaryExpressionsPassAndMonstersAreRefused) {
  EXPECT_EQ(regex_too_complex("^web-[0-9]+$"), "");
  EXPECT_EQ(regex_too_complex("(a|b)(c|(d|e))"), "");
  EXPECT_EQ(regex_too_complex("a{3}[({]"), "");  // a '(' in a class is no group
  EXPECT_NE(regex_too_complex(std::string(40, '(') + "a" + std::string(40, ')')), "");
  EXPECT_NE(regex_too_complex(std::string(2000, 'a')), "");
  EXPECT_NE(regex_too_complex("((a{100}){100}){100}"), "");
  EXPECT_EQ(regex_too_complex("\\({100}"), "");  // (escaped: a repeated '(' char, bounded)
}
