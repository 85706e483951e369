// One tag names one image across the flock, as it does on one engine: the newest assignment
// on any host wins (the object model's TagMark), and the hosts that kept an older image
// under the tag are brought in line, re-tagged where they have the newest image and
// untagged where they do not (their next create of it copies the image, routes/image_copy.cc).
// So a rebuilt or re-committed tag runs the new code wherever a container lands, and an
// engine asked directly agrees with the flock.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "transport/net.h"
#include "transport/worker.h"

namespace flocker::flock {

class Flock;

// Tags that could not be brought in line on some host (it was down, or refused): tried again
// once that host has been listed again.
class UnsettledTags {
 public:
  void add(const std::string& tag);
  std::vector<std::string> take();

 private:
  std::mutex mu_;
  std::set<std::string> tags_;
};

// Brings every host in line on each of `tags` (normalized) that hosts disagree on. Hosts
// whose time for a tag is only an estimate are asked first (dockerd's LastTagTime), so that
// a fresh proxy does not undo a newer tag. One tag at a time across the proxy's threads.
transport::Task<void> settle_tags(transport::Worker& worker, Flock& flock, std::vector<std::string> tags,
                                  std::string request_id = {});

// "127.0.0.1:5000/app:v1" -> {"127.0.0.1:5000/app", "v1"}: POST /images/{id}/tag's repo and tag.
std::pair<std::string, std::string> split_tag(std::string_view normalized);

}  // namespace flocker::flock
