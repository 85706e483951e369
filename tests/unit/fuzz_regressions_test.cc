// Inputs found by the libFuzzer targets (tests/fuzz), kept as regression tests. Each names
// the target that found it; replay one with build-fuzz/tests/fuzz/<target> FILE.
// A test whose fix belongs in proxy/ code not yet changed is  (it would crash this
// binary or fail): enable it with the fix (--gtest_also_run_disabled_tests runs it now).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "docker/filters.h"
#include "docker/json.h"
#include "docker/merge.h"
#include "docker/ps_query.h"
#include "docker/swarm_rules.h"

using namespace flocker::docker;

namespace {

std::string nested_parens(std::size_t depth) {
  return std::string(depth, '(') + "a" + std::string(depth, ')');
}

}  // namespace

// fuzz_merge: docker::int_field (proxy/docker/json.cc) casts a double to int64_t without a
// range check; an engine's `"Created": 1e300` in GET /containers/json is undefined
// behaviour (UBSan: "1e+300 is outside the range of representable values of type 'long'"),
// and on x86 sorts that container as the oldest. Input:
//   [{"Id":"a","Created":1e300,"Names":["/x"]}]
// Fix: clamp (d >= 2^63 -> INT64_MAX, d < -2^63 -> INT64_MIN, NaN -> fallback) before the cast.
TEST(FuzzRegressions, IntFieldClampsDoublesOutOfRange) {
  dom::parser parser;
  dom::element e;
  ASSERT_FALSE(parser.parse(std::string_view(R"({"Created":1e300,"Low":-1e300})")).get(e));
  EXPECT_EQ(int_field(e, "Created"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(int_field(e, "Low"), std::numeric_limits<int64_t>::min());
}

// The merge that reaches it: the 1e300 container is the newest, so it comes first.
TEST(FuzzRegressions, ContainerListWithHugeCreatedSortsNewestFirst) {
  const std::string merged = merge_container_lists(
      {{"h1", R"([{"Id":"old","Created":1000,"Names":["/old"]}])"},
       {"h2", R"([{"Id":"huge","Created":1e300,"Names":["/huge"]}])"}},
      -1);
  EXPECT_LT(merged.find("\"huge\""), merged.find("\"old\"")) << merged;
}

// fuzz_body_rewrite (a seed grown by nesting): docker::parse_swarm_rule
// (proxy/docker/swarm_rules.cc) compiles a client's regular expression with std::regex, whose
// compiler recurses once per nesting level: a create body of ~100 KB (max_create_body is
// 4 MiB) whose Env holds "constraint:zone==/((((...a...))))/" overflows the stack and kills
// the proxy (ASan: stack-overflow in std::__detail::_Compiler). Input: the body below.
// Fix: before `std::regex check(r.value)`, refuse a value longer than a bound (e.g. 1024
// bytes) or nested deeper than e.g. 64 '(' / '[' levels, with error = "the regular
// expression is too complex" (the create is then refused with 400, as for any bad rule).
TEST(FuzzRegressions, SwarmRuleDeeplyNestedRegexIsRefusedNotACrash) {
  const std::string body = R"({"Image":"busybox","Env":["constraint:zone==/)" +
                           nested_parens(50000) + R"(/"]})";
  const SwarmRules rules = swarm_rules(body);
  EXPECT_FALSE(rules.error.empty());
}

// The same std::regex compile on a client's query (proxy/docker/ps_query.cc, filter_match):
// `docker ps --filter name=((((...a...))))` answered from memory. The request head is at
// most 64 KiB, so ~30000 levels fit. Fix: the same bound in filter_match (a value past it
// matches only itself, as one that does not compile).
TEST(FuzzRegressions, FilterMatchDeeplyNestedRegexIsNotACrash) {
  Filters f;
  f["name"] = {nested_parens(30000)};
  EXPECT_FALSE(filter_match(f, "name", "/web"));
}
