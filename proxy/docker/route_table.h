// Which kind of handling each Docker Engine API endpoint gets in a flock (after Swarm
// classic's api/primary.go): go to the owner of an object, merge every host's answer, ask the
// decider where it goes, or refuse. docs/endpoints.md is the table in words.
#pragma once

#include <string>
#include <string_view>

#include "docker/api_target.h"
#include "transport/net.h"

namespace flocker::docker {

enum class Endpoint {
  // answered by the proxy itself, from every host
  kPing, kVersion, kInfo, kEvents, kSystemDf,
  kContainerList, kImageList, kNetworkList, kVolumeList, kPluginList,
  kContainerPrune, kImagePrune, kNetworkPrune, kVolumePrune, kBuildPrune,
  // decided (Route)
  kContainerCreate, kImageCreate, kImageLoad, kBuild, kVolumeCreate, kNetworkCreate,
  // BuildKit: POST /grpc (its control API) and POST /session (the engine's calls back to the
  // client), both upgraded to h2c; decided, then pinned together (flock/coordination/buildkit_pins.h)
  kBuildKitControl, kBuildKitSession,
  kBuildCancel,         // POST /build/cancel?id=: to the host that runs that build
  // to the owner
  kContainer,           // /containers/{id}/{action}: id and action set; "" action = DELETE
  kExec,                // /exec/{id}/{action}
  kImage,               // /images/{name}/{action} (json history tag push get), "" = DELETE
  kImageGetMany,        // GET /images/get?names=...
  kCommit,              // POST /commit?container=
  kNetwork,             // /networks/{id}[/connect|/disconnect], GET or DELETE
  kVolume,              // /volumes/{name}, GET or DELETE
  kPlugin,              // /plugins/{name}/{json,enable,disable,push,set}, DELETE /plugins/{name}
  // swarm mode: a flock answers as an engine outside a swarm
  kSwarm,               // /swarm..., /nodes, /services, /tasks, /secrets, /configs
  // to any healthy host
  kAnyHost,             // /auth, /images/search, /distribution/{name}/json
  // refused
  kUnsupported,         // installing plugins, joining a swarm: refused
  kUnknown,             // no such endpoint: 404
};

struct Route {
  Endpoint endpoint = Endpoint::kUnknown;
  std::string id;       // container / exec / image / network / volume reference
  std::string action;   // "json", "start", "attach", ... (container, exec, image, network)
  ApiTarget target;
};

Route classify(transport::http::verb method, std::string_view target);

const char* endpoint_name(Endpoint e);

}  // namespace flocker::docker
