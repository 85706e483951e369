// The Docker layer's pure parts: targets, the route table, image references, events.
#include <gtest/gtest.h>

#include "docker/api_target.h"
#include "docker/events.h"
#include "docker/image_ref.h"
#include "docker/route_table.h"

using namespace flocker::docker;
using flocker::transport::http::verb;

TEST(ApiTarget, SplitsVersionPathAndQuery) {
  auto t = parse_target("/v1.41/containers/json?all=1&filters=%7B%7D");
  EXPECT_EQ(t.version, "1.41");
  EXPECT_EQ(t.path, "/containers/json");
  EXPECT_EQ(t.query, "all=1&filters=%7B%7D");
  EXPECT_EQ(t.rebuild("all=0"), "/v1.41/containers/json?all=0");
  auto plain = parse_target("/_ping");
  EXPECT_EQ(plain.version, "");
  EXPECT_EQ(plain.path, "/_ping");
  EXPECT_EQ(parse_target("/volumes").path, "/volumes");  // not a version
}

TEST(ApiTarget, QueryParameters) {
  EXPECT_EQ(query_param("fromImage=busybox&tag=latest", "tag"), "latest");
  EXPECT_EQ(query_param("filters=%7B%22a%22%7D", "filters"), "{\"a\"}");
  EXPECT_FALSE(query_param("a=1", "b"));
  EXPECT_EQ(query_params("t=a&t=b%3A1&q=1", "t"), (std::vector<std::string>{"a", "b:1"}));
  EXPECT_EQ(with_query_param("name=x&a=1", "name", std::string("y z")), "a=1&name=y%20z");
  EXPECT_EQ(with_query_param("name=x&a=1", "name", std::nullopt), "a=1");
  EXPECT_TRUE(query_true("all=1", "all"));
  EXPECT_TRUE(query_true("all=true", "all"));
  EXPECT_FALSE(query_true("all=0", "all"));
}

TEST(RouteTable, ClassifiesEveryKind) {
  struct Case {
    verb method;
    const char* target;
    Endpoint endpoint;
    const char* id;
    const char* action;
  } cases[] = {
      {verb::head, "/_ping", Endpoint::kPing, "", ""},
      {verb::get, "/v1.41/_ping", Endpoint::kPing, "", ""},
      {verb::get, "/v1.41/info", Endpoint::kInfo, "", ""},
      {verb::get, "/v1.41/containers/json?all=1", Endpoint::kContainerList, "", ""},
      {verb::post, "/v1.41/containers/create?name=web", Endpoint::kContainerCreate, "", ""},
      {verb::post, "/v1.41/containers/abc123/start", Endpoint::kContainer, "abc123", "start"},
      {verb::get, "/v1.41/containers/web/attach/ws", Endpoint::kContainer, "web", "attach/ws"},
      {verb::delete_, "/v1.41/containers/web?force=1", Endpoint::kContainer, "web", ""},
      {verb::head, "/v1.41/containers/web/archive?path=/x", Endpoint::kContainer, "web", "archive"},
      {verb::post, "/v1.41/exec/e1/start", Endpoint::kExec, "e1", "start"},
      {verb::get, "/v1.41/images/json", Endpoint::kImageList, "", ""},
      {verb::post, "/v1.41/images/create?fromImage=busybox", Endpoint::kImageCreate, "", ""},
      {verb::get, "/v1.41/images/127.0.0.1:5000/team/app:1/json", Endpoint::kImage,
       "127.0.0.1:5000/team/app:1", "json"},
      {verb::delete_, "/v1.41/images/127.0.0.1:5000/app:1", Endpoint::kImage, "127.0.0.1:5000/app:1", ""},
      {verb::post, "/v1.41/images/app/push?tag=1", Endpoint::kImage, "app", "push"},
      {verb::get, "/v1.41/images/get?names=a", Endpoint::kImageGetMany, "", ""},
      {verb::post, "/v1.41/build?t=x", Endpoint::kBuild, "", ""},
      {verb::post, "/v1.41/commit?container=web", Endpoint::kCommit, "", ""},
      {verb::get, "/v1.41/networks", Endpoint::kNetworkList, "", ""},
      {verb::post, "/v1.41/networks/net1/connect", Endpoint::kNetwork, "net1", "connect"},
      {verb::delete_, "/v1.41/volumes/data", Endpoint::kVolume, "data", ""},
      {verb::post, "/v1.41/volumes/create", Endpoint::kVolumeCreate, "", ""},
      {verb::post, "/v1.41/swarm/init", Endpoint::kUnsupported, "", ""},
      {verb::get, "/v1.41/services", Endpoint::kSwarm, "", ""},
      {verb::post, "/v1.41/swarm/leave", Endpoint::kSwarm, "", ""},
      {verb::get, "/v1.41/plugins", Endpoint::kPluginList, "", ""},
      {verb::get, "/v1.41/plugins/vieux/sshfs:latest/json", Endpoint::kPlugin, "vieux/sshfs:latest", "json"},
      {verb::delete_, "/v1.41/plugins/vieux/sshfs:latest", Endpoint::kPlugin, "vieux/sshfs:latest", ""},
      {verb::post, "/v1.41/plugins/pull?remote=x", Endpoint::kUnsupported, "", ""},
      {verb::post, "/v1.41/plugins/x/enable", Endpoint::kPlugin, "x", "enable"},
      {verb::post, "/v1.41/plugins/x/upgrade", Endpoint::kUnsupported, "", ""},
      {verb::get, "/v1.41/networks/", Endpoint::kNetworkList, "", ""},
      {verb::get, "/v1.41/volumes/", Endpoint::kVolume, "", ""},
      {verb::post, "/session", Endpoint::kBuildKitSession, "", ""},
      {verb::post, "/v1.41/grpc", Endpoint::kBuildKitControl, "", ""},
      {verb::get, "/grpc", Endpoint::kUnknown, "", ""},
      {verb::post, "/build/cancel", Endpoint::kBuildCancel, "", ""},
      {verb::post, "/auth", Endpoint::kAnyHost, "", ""},
      {verb::get, "/v1.41/nonsense", Endpoint::kUnknown, "", ""},
      {verb::get, "/v1.41/containers/web", Endpoint::kUnknown, "", ""},
  };
  for (const auto& c : cases) {
    auto r = classify(c.method, c.target);
    EXPECT_EQ(r.endpoint, c.endpoint) << c.target << " got " << endpoint_name(r.endpoint);
    EXPECT_EQ(r.id, c.id) << c.target;
    EXPECT_EQ(r.action, c.action) << c.target;
  }
}

TEST(ImageRef, NormalizesLikeRepoTags) {
  EXPECT_EQ(normalize_image("busybox"), "busybox:latest");
  EXPECT_EQ(normalize_image("docker.io/library/busybox"), "busybox:latest");
  EXPECT_EQ(normalize_image("busybox:1.36"), "busybox:1.36");
  EXPECT_EQ(normalize_image("127.0.0.1:5000/app"), "127.0.0.1:5000/app:latest");
  EXPECT_EQ(normalize_image("127.0.0.1:5000/app:2"), "127.0.0.1:5000/app:2");
  EXPECT_EQ(normalize_image("app@sha256:abc"), "app@sha256:abc");
  EXPECT_EQ(registry_of("busybox"), "docker.io");
  EXPECT_EQ(registry_of("team/app"), "docker.io");
  EXPECT_EQ(registry_of("127.0.0.1:5000/app"), "127.0.0.1:5000");
  EXPECT_EQ(registry_of("localhost/app"), "localhost");
  EXPECT_EQ(join_image_tag("busybox", "latest"), "busybox:latest");
  EXPECT_EQ(join_image_tag("127.0.0.1:5000/app", "2"), "127.0.0.1:5000/app:2");
  EXPECT_EQ(join_image_tag("app", "sha256:abc"), "app@sha256:abc");
}

TEST(Events, TaggedWithTheirHost) {
  EXPECT_EQ(tag_event(R"({"Type":"container","Actor":{"ID":"x","Attributes":{"name":"web"}}})", "e1"),
            R"({"Type":"container","Actor":{"ID":"x","Attributes":{"com.docker.flocker.host":"e1","name":"web"}}})");
  EXPECT_EQ(tag_event(R"({"Actor":{"ID":"x","Attributes":{}}})", "e2"),
            R"({"Actor":{"ID":"x","Attributes":{"com.docker.flocker.host":"e2"}}})");
  EXPECT_EQ(tag_event(R"({"status":"x"})", "e3"), R"({"status":"x"})");
}
