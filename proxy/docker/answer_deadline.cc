#include "docker/answer_deadline.h"

#include <cstdlib>

#include "docker/api_target.h"

namespace flocker::docker {

namespace http = transport::http;
using std::chrono::milliseconds;

milliseconds answer_deadline(http::verb method, const Route& route, milliseconds base) {
  const milliseconds none{0};
  switch (route.endpoint) {
    // The answer comes after the work: a pull, a push, loading or saving images, building,
    // committing or exporting a container, pruning.
    case Endpoint::kImageCreate:
    case Endpoint::kImageLoad:
    case Endpoint::kBuild:
    case Endpoint::kCommit:
    case Endpoint::kImageGetMany:
    case Endpoint::kContainerPrune:
    case Endpoint::kImagePrune:
    case Endpoint::kNetworkPrune:
    case Endpoint::kVolumePrune:
    case Endpoint::kBuildPrune:
    case Endpoint::kSystemDf:
      return none;
    case Endpoint::kImage:
      return route.action == "push" || route.action == "get" ? none : base;
    case Endpoint::kPlugin:
      return none;  // enabling a plugin starts it; pushing uploads it
    case Endpoint::kContainer: {
      const std::string& a = route.action;
      // wait: until the container exits (before API 1.30 the header comes then too);
      // export, and archive uploads (cp into a container: extracted before the answer).
      if (a == "wait" || a == "export") return none;
      if (a == "archive" && method == http::verb::put) return none;
      // stop and restart wait for the container to stop: up to `t`, else its own StopTimeout.
      if (a == "stop" || a == "restart") {
        auto t = query_param(route.target.query, "t");
        if (!t) return none;
        const long seconds = std::strtol(t->c_str(), nullptr, 10);
        return seconds < 0 ? none : base + std::chrono::seconds(seconds);
      }
      return base;
    }
    default:
      return base;
  }
}

}  // namespace flocker::docker
