#include "docker/events.h"

#include "docker/json.h"
#include "docker/merge.h"

namespace flocker::docker {

std::string tag_event(std::string_view event, std::string_view host) {
  // `"Attributes":{` cannot occur inside a JSON string (its quotes would be escaped), and
  // Actor.Attributes is the only object-valued Attributes in an event: a splice is exact.
  static constexpr std::string_view kKey = "\"Attributes\":{";
  auto at = event.find(kKey);
  if (at == std::string_view::npos) return std::string(event);
  std::string out;
  out.reserve(event.size() + host.size() + 40);
  out.append(event.substr(0, at + kKey.size()));
  append_quoted(out, kHostLabel);
  out += ':';
  append_quoted(out, host);
  if (event.size() > at + kKey.size() && event[at + kKey.size()] != '}') out += ',';
  out.append(event.substr(at + kKey.size()));
  return out;
}

}  // namespace flocker::docker
