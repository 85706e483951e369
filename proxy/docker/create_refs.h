// What a container-create body refers to outside itself: other containers whose volumes,
// namespaces or links it shares, named volumes, user-defined networks. In a flock each of
// those lives on some hosts only, so the container must go where they are. Read as the
// engine's decoder reads the body (keys case-insensitive, the last repeat wins).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace flocker::docker {

struct CreateRef {
  enum class Kind { kContainer, kVolume, kNetwork };
  Kind kind;
  std::string object;  // as written: a container name/ID/prefix, a volume name, a network
  std::string field;   // where: "HostConfig.VolumesFrom", "HostConfig.Binds", ...
  // Volumes: the driver and DriverOpts "type" a Mounts entry gives for a volume docker
  // will create (empty for Binds: the engine's default, "local").
  std::string volume_driver, volume_fs_type;
};

struct CreateRefs {
  std::string image;  // Image
  std::vector<CreateRef> refs;
};

// The references of a create body (a JSON object). Host paths, anonymous volumes and the
// predefined networks (bridge, host, none, default) are not references.
CreateRefs create_refs(std::string_view body);

}  // namespace flocker::docker
