// Merging what every host of the flock answered into the one answer a single engine would
// give, in docker's shape. Pure functions over the hosts' response bodies.
#pragma once

#include <optional>
#include <stdexcept>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "docker/json.h"

namespace flocker::docker {

struct HostBody {
  std::string host;  // the host's name in the flock
  std::string body;  // its JSON answer
};

// The label that shows, in `docker ps` output, which host runs a container.
constexpr std::string_view kHostLabel = "com.docker.flocker.host";

// GET /containers/json: every host's list, newest first, `limit` applied after merging
// (negative: no limit); each entry carries kHostLabel in its Labels.
std::string merge_container_lists(const std::vector<HostBody>& replies, int64_t limit);

// One container list entry as the flock answers it: kHostLabel added to (or replacing in) its
// Labels. `spans`, when given, receives where its Image and Status values are in w.str().
struct EntrySpans {
  std::pair<std::size_t, std::size_t> image{0, 0}, status{0, 0};  // offset, length
};
void write_container_entry(JsonWriter& w, const dom::element& entry, std::string_view host,
                           EntrySpans* spans = nullptr);

// GET /images/json: one entry per image ID, RepoTags and RepoDigests united, newest first.
std::string merge_image_lists(const std::vector<HostBody>& replies);

// A merged image list with each tag shown only on the image `names(tag, id)` says the tag
// names (a flock's tag is its newest assignment: a host's older image under it is listed as
// dockerd lists an image a rebuild took its tag from, untagged). `tag` as RepoTags has it.
std::string keep_tags(std::string_view images,
                      const std::function<bool(std::string_view tag, std::string_view id)>& names);

// GET /networks, and GET /plugins: one entry per name (the first host's).
std::string merge_network_lists(const std::vector<HostBody>& replies);

// GET /volumes: {"Volumes": one per name, "Warnings": all}.
std::string merge_volume_lists(const std::vector<HostBody>& replies);

// GET /system/df: sizes summed, lists merged as above.
std::string merge_system_df(const std::vector<HostBody>& replies);

// POST /{containers,images,networks,volumes,build}/prune: arrays joined, numbers summed.
std::string merge_prune_reports(const std::vector<HostBody>& replies);

// An answer that is a JSON object with a "Warnings" member (null or an array of strings),
// with `extra` added to its Warnings; nullopt for any other answer.
std::optional<std::string> with_warnings(std::string_view object, const std::vector<std::string>& extra);

// A body that is not the JSON expected; what() names the host.
struct MergeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace flocker::docker
