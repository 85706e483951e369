#include "docker/container_status.h"

#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace flocker::docker {

std::string human_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  const double s = duration<double>(d).count();
  const int64_t seconds = static_cast<int64_t>(s);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return fmt::format("{} seconds", seconds);
  const int64_t minutes = static_cast<int64_t>(s / 60);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return fmt::format("{} minutes", minutes);
  const int64_t hours = static_cast<int64_t>(s / 3600 + 0.5);  // rounded, as go-units does
  if (hours == 1) return "About an hour";
  if (hours < 48) return fmt::format("{} hours", hours);
  if (hours < 24 * 7 * 2) return fmt::format("{} days", hours / 24);
  if (hours < 24 * 30 * 2) return fmt::format("{} weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2) return fmt::format("{} months", hours / 24 / 30);
  return fmt::format("{} years", static_cast<int64_t>(s / 3600) / 24 / 365);
}

std::string status_text(const ContainerState& s, Clock::time_point now) {
  auto since = [&](const std::optional<Clock::time_point>& t) {
    return human_duration(now - t.value_or(Clock::time_point{}));
  };
  if (s.running) {
    if (s.paused) return fmt::format("Up {} (Paused)", since(s.started_at));
    if (s.restarting) return fmt::format("Restarting ({}) {} ago", s.exit_code, since(s.finished_at));
    if (!s.health.empty()) {
      return fmt::format("Up {} ({})", since(s.started_at), s.health == "starting" ? "health: starting" : s.health);
    }
    return fmt::format("Up {}", since(s.started_at));
  }
  if (s.removing) return "Removal In Progress";
  if (s.dead) return "Dead";
  if (!s.started_at) return "Created";
  if (!s.finished_at) return "";
  return fmt::format("Exited ({}) {} ago", s.exit_code, since(s.finished_at));
}

std::string_view state_word(const ContainerState& s) {
  if (s.running) {
    if (s.paused) return "paused";
    if (s.restarting) return "restarting";
    return "running";
  }
  if (s.removing) return "removing";
  if (s.dead) return "dead";
  if (!s.started_at) return "created";
  return "exited";
}

std::optional<Clock::time_point> parse_docker_time(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  auto num = [&](std::size_t at, std::size_t len, int& out) {
    if (at + len > t.size()) return false;
    auto [p, ec] = std::from_chars(t.data() + at, t.data() + at + len, out);
    return ec == std::errc() && p == t.data() + at + len;
  };
  int year, month, day, hour, minute, second;
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
      !num(0, 4, year) || !num(5, 2, month) || !num(8, 2, day) || !num(11, 2, hour) || !num(14, 2, minute) ||
      !num(17, 2, second)) {
    return std::nullopt;
  }
  if (year <= 1) return std::nullopt;  // Go's zero time
  // The clock counts nanoseconds in 64 bits: about 1678 to 2262. Outside
  // that (or outside the calendar) the text is not a time we can hold.
  if (year < 1700 || year > 2261 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  int64_t nanos = 0;
  if (at < t.size() && t[at] == '.') {
    int64_t scale = 100000000;
    for (++at; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at, scale /= 10) nanos += (t[at] - '0') * scale;
  }
  int offset_minutes = 0;
  if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
    int oh, om;
    if (!num(at + 1, 2, oh) || !num(at + 4, 2, om) || oh < 0 || oh > 23 || om < 0 ||
        om > 59) return std::nullopt;
    offset_minutes = (t[at] == '+' ? 1 : -1) * (oh * 60 + om);
  } else if (at >= t.size() || t[at] != 'Z') {
    return std::nullopt;
  }
  using namespace std::chrono;
  const sys_days date = year_month_day{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
  return Clock::time_point(duration_cast<Clock::duration>(date.time_since_epoch() + hours(hour) + minutes(minute) +
                                                          seconds(second) + nanoseconds(nanos) -
                                                          minutes(offset_minutes)));
}

}  // namespace flocker::docker
