// Selecting hosts in list and event filters. docker's own filters go to the engines as they
// are; two more select the hosts to ask, and are taken out before the engines see them:
//   --filter node=e1                                  (as in Swarm classic)
//   --filter label=com.docker.flocker.host=e1        (the label `docker ps` output carries)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace flocker::docker {

struct HostFilter {
  std::vector<std::string> hosts;  // empty: every host
  std::string query;               // the query with those filters removed
  std::string error;               // filters that are not valid JSON
};

HostFilter take_host_filter(std::string_view query);

}  // namespace flocker::docker
