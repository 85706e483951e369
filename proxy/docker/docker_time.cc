#include "docker/docker_time.h"

#include <fmt/format.h>

#include "docker/container_status.h"

namespace flocker::docker {

int64_t unix_nanos(std::string_view rfc3339) {
  auto t = parse_docker_time(rfc3339);
  return t ? std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count() : 0;
}

std::optional<std::string> shift_docker_time(std::string_view text, std::chrono::nanoseconds by) {
  using namespace std::chrono;
  const auto t = parse_docker_time(text);
  if (!t) return std::nullopt;
  // The zone as written: after the seconds and any fraction.
  std::size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at) {
    }
  }
  const std::string_view zone = text.substr(at);
  minutes offset{0};
  if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-')) {
    const int h = (zone[1] - '0') * 10 + (zone[2] - '0'), m = (zone[4] - '0') * 10 + (zone[5] - '0');
    offset = minutes((zone[0] == '+' ? 1 : -1) * (h * 60 + m));
  }
  const auto local = time_point_cast<nanoseconds>(*t) + by + offset;  // the wall clock of that zone
  const auto day = floor<days>(local);
  const year_month_day date{day};
  const hh_mm_ss clock{local - day};
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", int(date.year()), unsigned(date.month()),
                                unsigned(date.day()), clock.hours().count(), clock.minutes().count(),
                                clock.seconds().count());
  if (auto frac = clock.subseconds().count(); frac > 0) {
    std::string digits = fmt::format("{:09}", frac);
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  out += zone;
  return out;
}

}  // namespace flocker::docker
