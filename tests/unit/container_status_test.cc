// dockerd's words for a container's state (State.String, StateString) and go-units'
// HumanDuration, case by case from their own tests.
#include "docker/container_status.h"
#include "docker/docker_time.h"

#include <gtest/gtest.h>

using namespace flocker::docker;
using namespace std::chrono;

TEST(ContainerStatus, HumanDurationAsGoUnitsSaysIt) {
  const auto day = hours(24), week = 7 * day, month = 30 * day, year = 365 * day;
  const std::pair<nanoseconds, const char*> cases[] = {
      {milliseconds(450), "Less than a second"},
      {seconds(1), "1 second"},
      {seconds(45), "45 seconds"},
      {seconds(59), "59 seconds"},
      {seconds(60), "About a minute"},
      {minutes(3), "3 minutes"},
      {minutes(35) + seconds(40), "35 minutes"},
      {minutes(59), "59 minutes"},
      {hours(1), "About an hour"},
      {hours(1) + minutes(29), "About an hour"},
      {hours(1) + minutes(31), "2 hours"},
      {hours(3) + minutes(29), "3 hours"},
      {hours(3) + minutes(31), "4 hours"},
      {hours(24), "24 hours"},
      {day + hours(12), "36 hours"},
      {2 * day, "2 days"},
      {13 * day + hours(5), "13 days"},
      {2 * week, "2 weeks"},
      {4 * week + 3 * day, "4 weeks"},
      {month, "4 weeks"},
      {month + 2 * week, "6 weeks"},
      {2 * month, "2 months"},
      {5 * month + 2 * week, "5 months"},
      {24 * month, "24 months"},
      {24 * month + 2 * week, "2 years"},
      {3 * year + 2 * month, "3 years"},
  };
  for (const auto& [d, want] : cases) EXPECT_EQ(human_duration(d), want) << duration<double>(d).count() << " s";
}

TEST(ContainerStatus, StatusAndStateAsDockerdWordsThem) {
  const auto now = Clock::time_point(seconds(2'000'000'000));
  ContainerState s;
  EXPECT_EQ(status_text(s, now), "Created");
  EXPECT_EQ(state_word(s), "created");
  s.running = true;
  s.started_at = now - minutes(3) - seconds(10);
  EXPECT_EQ(status_text(s, now), "Up 3 minutes");
  EXPECT_EQ(state_word(s), "running");
  s.health = "starting";
  EXPECT_EQ(status_text(s, now), "Up 3 minutes (health: starting)");
  s.health = "healthy";
  EXPECT_EQ(status_text(s, now), "Up 3 minutes (healthy)");
  s.paused = true;
  EXPECT_EQ(status_text(s, now), "Up 3 minutes (Paused)");
  EXPECT_EQ(state_word(s), "paused");
  s = {};
  s.running = true;
  s.restarting = true;
  s.exit_code = 1;
  s.started_at = now - hours(1);
  s.finished_at = now - seconds(4);
  EXPECT_EQ(status_text(s, now), "Restarting (1) 4 seconds ago");
  EXPECT_EQ(state_word(s), "restarting");
  s.running = s.restarting = false;
  s.exit_code = 137;
  s.finished_at = now - hours(2);
  EXPECT_EQ(status_text(s, now), "Exited (137) 2 hours ago");
  EXPECT_EQ(state_word(s), "exited");
  s.dead = true;
  EXPECT_EQ(status_text(s, now), "Dead");
  s.removing = true;
  EXPECT_EQ(status_text(s, now), "Removal In Progress");
  EXPECT_EQ(state_word(s), "removing");
}

TEST(ContainerStatus, DockerTimesParsedToTheNanosecond) {
  auto t = parse_docker_time("2026-11-30T06:33:20.123456789Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(duration_cast<nanoseconds>(t->time_since_epoch()).count() % 1'000'000'000, 123456789);
  EXPECT_EQ(duration_cast<seconds>(t->time_since_epoch()).count(), 1796020400);
  auto offset = parse_docker_time("2026-11-30T07:33:20.5+01:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(duration_cast<nanoseconds>(*offset - *t).count(), 500000000 - 123456789);
  EXPECT_FALSE(parse_docker_time("0001-01-01T00:00:00Z")) << "Go's zero time";
  EXPECT_FALSE(parse_docker_time("yesterday"));
  EXPECT_FALSE(parse_docker_time("2026-11-30T06:33:20"));
  // Times the 64-bit nanosecond clock cannot hold, and fields outside the
  // calendar, are not times (the fuzzer found year 9999 overflowing).
  EXPECT_FALSE(parse_docker_time("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parse_docker_time("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_docker_time("2026-11-30T-1:00:00Z"));
  EXPECT_FALSE(parse_docker_time("2026-11-30T06:33:20+99:00"));
}

TEST(DockerTime, SystemTimeMovedOnKeepsItsZoneAndGoForm) {
  using namespace std::chrono_literals;
  EXPECT_EQ(flocker::docker::shift_docker_time("2026-12-07T15:24:19.003392912Z", 1500ms),
            "2026-12-07T15:24:20.503392912Z");
  EXPECT_EQ(flocker::docker::shift_docker_time("2026-12-31T23:59:59.5+01:00", 500ms), "2027-01-01T00:00:00+01:00")
      << "a whole second has no fraction (RFC3339Nano trims zeros)";
  EXPECT_EQ(flocker::docker::shift_docker_time("2026-12-07T10:00:00.100Z", 0ns), "2026-12-07T10:00:00.1Z");
  EXPECT_EQ(flocker::docker::shift_docker_time("2026-03-01T00:00:00-05:30", -1ns), "2026-02-28T23:59:59.999999999-05:30");
  EXPECT_FALSE(flocker::docker::shift_docker_time("yesterday", 1s));
  EXPECT_EQ(flocker::docker::unix_nanos("1970-01-01T00:00:01.000000002Z"), 1'000'000'002);
  EXPECT_EQ(flocker::docker::unix_nanos("0001-01-01T00:00:00Z"), 0) << "Go's zero time: never";
}
