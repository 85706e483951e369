#include "docker/host_filter.h"

#include "docker/api_target.h"
#include "docker/filters.h"
#include "docker/merge.h"

namespace flocker::docker {

HostFilter take_host_filter(std::string_view query) {
  HostFilter out;
  out.query = std::string(query);
  auto filters = filters_of(query);
  if (!filters) {
    out.error = "invalid filter: " + query_param(query, "filters").value_or("");
    return out;
  }
  // Appended rather than `std::string(kHostLabel) + "="`: GCC 12 reports a false -Warray-bounds
  // in the inlined operator+ once the standard headers come precompiled.
  std::string host_label(kHostLabel);
  host_label += '=';
  for (auto& [key, values] : *filters) {
    std::erase_if(values, [&](const std::string& v) {
      if (key == "node") {
        out.hosts.push_back(v);
      } else if (key == "label" && v.starts_with(host_label)) {
        out.hosts.push_back(v.substr(host_label.size()));
      } else {
        return false;
      }
      return true;
    });
  }
  if (out.hosts.empty()) return out;  // untouched
  out.query = with_filters(query, *filters);
  return out;
}

}  // namespace flocker::docker
