// The flock's rules against in-process fake engines and a scripted decider: merging, names,
// prefixes, pinning, remap and auth, decider failures, hosts down and back, fan-out.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <thread>

#include "fake_engine.h"
#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> field_of_each(const std::string& json, const char* key) {
  simdjson::dom::parser p;
  std::vector<std::string> out;
  for (auto e : p.parse(json).get_array()) {
    std::string_view s;
    if (!e[key].get_string().get(s)) out.emplace_back(s);
  }
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST(Flock, ContainerListsMergeNewestFirstWithTheLimitAfterMerging) {
  FlockHarness f;
  f.e1.add_container("a", "img", 100);
  f.e2.add_container("b", "img", 300);
  f.e3.add_container("c", "img", 200);
  f.e1.add_container("d", "img", 50);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.the_flock->model.sizes().containers == 4; }));
  auto all = f.request("GET", "/v1.41/containers/json");
  ASSERT_EQ(all.result_int(), 200) << all.body();
  EXPECT_EQ(field_of_each(all.body(), "Image").size(), 4u);
  simdjson::dom::parser p;
  std::vector<std::string> names;
  for (auto e : p.parse(all.body()).get_array()) names.emplace_back(std::string_view(e["Names"].at(0).get_string()));
  EXPECT_EQ(names, (std::vector<std::string>{"/b", "/c", "/a", "/d"}));
  EXPECT_TRUE(contains(all.body(), "\"com.docker.flocker.host\":\"e2\"")) << all.body();

  auto two = f.request("GET", "/v1.41/containers/json?limit=2");
  EXPECT_EQ(field_of_each(two.body(), "Id").size(), 2u);
  auto on_e1 = f.request("GET", "/v1.41/containers/json?filters=%7B%22node%22%3A%7B%22e1%22%3Atrue%7D%7D");
  EXPECT_EQ(field_of_each(on_e1.body(), "Id").size(), 2u) << on_e1.body();
  for (const auto& r : f.e2.requests("/containers/json")) {  // (a list by ID is the model reading a container)
    EXPECT_FALSE(contains(r.target, "filters") && !contains(r.target, "%22id%22")) << "e2 was asked though only e1 was selected";
  }
  // The node filter never reaches an engine (docker would reject it).
  for (const auto& r : f.e1.requests("/containers/json")) EXPECT_FALSE(contains(r.target, "node")) << r.target;
}

TEST(Flock, OtherListsMergeAndPruneReportsSum) {
  FlockHarness f;
  f.e1.add_image("busybox:latest", "sha256:same");
  f.e2.add_image("busybox:latest", "sha256:same");
  f.e2.add_image("app:1");
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e1", "busybox") && f.knows_image("e2", "app:1"); }));
  auto images = f.request("GET", "/v1.41/images/json");
  EXPECT_EQ(field_of_each(images.body(), "Id").size(), 2u) << images.body();
  auto pruned = f.request("POST", "/v1.41/containers/prune");
  EXPECT_TRUE(contains(pruned.body(), "\"SpaceReclaimed\":21")) << pruned.body();
  EXPECT_TRUE(contains(pruned.body(), "gone-on-e3")) << pruned.body();
}

TEST(Flock, InfoIsTheFlockAndVersionTheLowestApi) {
  FlockHarness f;
  f.e1.add_container("a", "img", 1);
  f.e3.add_container("b", "img", 2);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.the_flock->model.sizes().containers == 2; }));
  auto info = f.request("GET", "/v1.41/info");
  simdjson::dom::parser p;
  auto doc = p.parse(info.body());
  EXPECT_EQ(std::string_view(doc["Name"].get_string()), "test-flock");
  EXPECT_EQ(int64_t(doc["Containers"].get_int64()), 2);
  EXPECT_EQ(int64_t(doc["NCPU"].get_int64()), 2);  // the largest host's: what one container gets
  EXPECT_TRUE(contains(info.body(), "\"  └ Labels\",\"zone=z-e2\"")) << info.body();
  auto ping = f.request("HEAD", "/_ping");
  EXPECT_EQ(ping["Api-Version"], "1.41");
  auto version = f.request("GET", "/version");
  EXPECT_TRUE(contains(version.body(), "\"ApiVersion\":\"1.41\"")) << version.body();
}

TEST(Flock, NamesAreUniqueAcrossTheFlock) {
  FlockHarness f;
  f.e1.add_image("img:latest");
  f.e2.add_image("img:latest");
  f.e3.add_image("img:latest");
  std::string id = f.e2.add_container("web", "img", 1);
  ASSERT_TRUE(f.wait_healthy(3));
  auto res = f.request("POST", "/v1.41/containers/create?name=web", R"({"Image":"img"})");
  EXPECT_EQ(res.result_int(), 409);
  EXPECT_TRUE(contains(res.body(), "Conflict. The container name \\\"/web\\\" is already in use by container \\\"" + id))
      << res.body();
  EXPECT_EQ(f.e1.requests("/containers/create").size() + f.e3.requests("/containers/create").size(), 0u);
  auto rename = f.request("POST", "/v1.41/containers/" + id.substr(0, 8) + "/rename?name=web");
  EXPECT_EQ(rename.result_int(), 204) << "renaming a container to its own name is fine: " << rename.body();
  f.e3.add_container("api", "img", 2);
  auto clash = f.request("POST", "/v1.41/containers/api/rename?name=web");
  EXPECT_EQ(clash.result_int(), 409) << clash.body();
}

TEST(Flock, ANameTakenOnAnEngineBeforeTheProxyHeardOfItIsStillAConflict) {
  FlockHarness f;
  for (auto* e : {&f.e1, &f.e2, &f.e3}) e->add_image("img:latest");
  f.e3.add_container("quiet", "img", 1, "", /*announce=*/false);  // no event: the index cannot know
  auto res = f.request("POST", "/v1.41/containers/create?name=quiet", R"({"Image":"img"})");
  EXPECT_EQ(res.result_int(), 409) << res.body();
  EXPECT_TRUE(contains(res.body(), "is already in use")) << res.body();
}

TEST(Flock, IdPrefixesAreResolvedAndAmbiguityIsDockersError) {
  FlockHarness f;
  std::string a = f.e1.add_container("one", "img", 1, "abc1" + std::string(60, '0'));
  std::string b = f.e2.add_container("two", "img", 2, "abc2" + std::string(60, '0'));
  // Both known (their create events applied): until then the model knows one of them and a
  // prefix is resolved as docker resolves it on the hosts that told.
  ASSERT_TRUE(FlockHarness::eventually([&] {
    auto m = f.the_flock->model.snapshot();
    return m->container_by_name("one") && m->container_by_name("two");
  }));
  auto ambiguous = f.request("GET", "/v1.41/containers/abc/json");
  EXPECT_EQ(ambiguous.result_int(), 500);
  EXPECT_TRUE(contains(ambiguous.body(), "Multiple IDs found with provided prefix: abc")) << ambiguous.body();
  auto one = f.request("GET", "/v1.41/containers/abc2/json");
  ASSERT_EQ(one.result_int(), 200) << one.body();
  EXPECT_TRUE(contains(one.body(), "\"Node\":{\"Name\":\"e2\"")) << one.body();
  auto logs = f.request("GET", "/v1.41/containers/one/logs?stdout=1");
  EXPECT_EQ(logs.body(), "logs of one on e1\n");
  auto missing = f.request("GET", "/v1.41/containers/nope/json");
  EXPECT_EQ(missing.result_int(), 404);
  EXPECT_TRUE(contains(missing.body(), "No such container: nope"));
}

TEST(Flock, AContainerMadeBehindTheProxysBackIsFound) {
  FlockHarness f;
  // Not in the index yet (no event was sent): the proxy asks every host.
  f.e3.add_container("sneaky", "img", 1);
  auto res = f.request("POST", "/v1.41/containers/sneaky/start");
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(f.e3.requests("/containers/sneaky/start").size(), 1u);
}

TEST(Flock, ExecGoesToTheHostThatMadeIt) {
  FlockHarness f;
  f.e2.add_container("box", "img", 1);
  auto created = f.request("POST", "/v1.41/containers/box/exec", R"({"Cmd":["true"]})");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  simdjson::dom::parser p;
  std::string exec_id(std::string_view(p.parse(created.body())["Id"].get_string()));
  auto inspected = f.request("GET", "/v1.41/exec/" + exec_id + "/json");
  EXPECT_EQ(inspected.result_int(), 200);
  EXPECT_EQ(f.e2.requests("/exec/").size(), 1u);
  EXPECT_EQ(f.request("GET", "/v1.41/exec/feedface/json").result_int(), 404);
}

TEST(Flock, DockerRunPullsAndCreatesWhereTheFirstCreateWent) {
  FlockHarness f;  // no engine has the image
  auto first = f.request("POST", "/v1.41/containers/create", R"({"Image":"127.0.0.1:5000/app"})");
  ASSERT_EQ(first.result_int(), 404) << first.body();
  {
    std::lock_guard lock(f.decider.mu);
    ASSERT_EQ(f.decider.routes.size(), 1u);
  }
  // Where did it go? The engine that answered the create.
  std::string first_host;
  for (auto* e : {&f.e1, &f.e2, &f.e3}) {
    if (!e->requests("/containers/create").empty()) first_host = e->name();
  }
  ASSERT_FALSE(first_host.empty());
  auto pull = f.request("POST", "/v1.41/images/create?fromImage=127.0.0.1%3A5000%2Fapp&tag=latest", "",
                        "X-Registry-Auth: e30=\r\n");
  EXPECT_EQ(pull.result_int(), 200);
  auto second = f.request("POST", "/v1.41/containers/create", R"({"Image":"127.0.0.1:5000/app"})");
  EXPECT_EQ(second.result_int(), 201) << second.body();
  {
    std::lock_guard lock(f.decider.mu);
    ASSERT_EQ(f.decider.routes.size(), 3u);
    EXPECT_EQ(f.decider.routes[1].kind(), v1::OPERATION_KIND_IMAGE_PULL);
    EXPECT_EQ(f.decider.routes[1].image(), "127.0.0.1:5000/app:latest");
    EXPECT_EQ(f.decider.routes[1].pinned_host(), first_host);
    EXPECT_EQ(f.decider.routes[2].pinned_host(), first_host);
  }
  // And once the retried create worked, the pin is spent.
  f.request("POST", "/v1.41/containers/create", R"({"Image":"127.0.0.1:5000/app"})");
  std::lock_guard lock(f.decider.mu);
  EXPECT_EQ(f.decider.routes.back().pinned_host(), "");
}

TEST(Flock, RouteSeesCandidatesWithTheirState) {
  FlockHarness f;
  f.e2.add_image("img:latest");
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e2", "img:latest"); }));
  f.request("POST", "/v1.41/containers/create?name=x", R"({"Image":"img","Labels":{"k":"v"}})",
            "User-Agent: Docker-Client/28.2.2 (linux)\r\n");
  std::lock_guard lock(f.decider.mu);
  ASSERT_FALSE(f.decider.routes.empty());
  const auto& r = f.decider.routes.back();
  EXPECT_EQ(r.kind(), v1::OPERATION_KIND_CONTAINER_CREATE);
  EXPECT_EQ(r.name(), "x");
  EXPECT_EQ(r.image(), "img");
  EXPECT_TRUE(contains(r.body(), "\"Labels\":{\"k\":\"v\"}"));
  EXPECT_EQ(r.client().user_agent(), "Docker-Client/28.2.2 (linux)");
  EXPECT_FALSE(r.request_id().empty());
  ASSERT_EQ(r.candidates_size(), 3);
  for (const auto& c : r.candidates()) {
    EXPECT_TRUE(c.healthy()) << c.name();
    EXPECT_EQ(c.ncpu(), 2);
    EXPECT_EQ(c.labels().at("zone"), "z-" + c.name());
    EXPECT_EQ(c.image(), c.name() == "e2" ? v1::IMAGE_PRESENCE_PRESENT : v1::IMAGE_PRESENCE_ABSENT) << c.name();
  }
}

TEST(Flock, RemapChangesTheCreateAndUnimplementedLeavesItAlone) {
  FlockHarness f;
  f.e1.add_image("img:latest");
  f.decider.on_route = [](const v1::RouteRequest&, v1::RouteResponse& resp) {
    resp.add_hosts("e1");
    return grpc::Status::OK;
  };
  // No opinion: the body goes as the client sent it, and RemapContainer is not asked again.
  const std::string body = R"({"Image":"img","Env":["A=1"],"Memory":9007199254740993})";
  EXPECT_EQ(f.request("POST", "/v1.41/containers/create", body).result_int(), 201);
  EXPECT_EQ(f.e1.requests("/containers/create").back().body, body);
  EXPECT_EQ(f.request("POST", "/v1.41/containers/create", body).result_int(), 201);
  {
    std::lock_guard lock(f.decider.mu);
    EXPECT_EQ(f.decider.remaps.size(), 1u) << "UNIMPLEMENTED is remembered";
  }
}

TEST(Flock, RemapRewritesBodyAndName) {
  FlockHarness f;
  f.e1.add_image("img:latest");
  f.decider.on_route = [](const v1::RouteRequest&, v1::RouteResponse& resp) {
    resp.add_hosts("e1");
    return grpc::Status::OK;
  };
  f.decider.on_remap = [](const v1::RemapContainerRequest& req, v1::RemapContainerResponse& resp) {
    EXPECT_EQ(req.host(), "e1");
    EXPECT_TRUE(req.image().find("IMAGE_ENV=1") != std::string::npos) << req.image();
    resp.set_body(R"({"Image":"img","Env":["A=1","ZONE=z-e1"]})");
    resp.set_name("renamed");
    return grpc::Status::OK;
  };
  auto res = f.request("POST", "/v1.41/containers/create?name=asked", R"({"Image":"img","Env":["A=1"]})");
  EXPECT_EQ(res.result_int(), 201) << res.body();
  auto sent = f.e1.requests("/containers/create").back();
  EXPECT_EQ(sent.body, R"({"Image":"img","Env":["A=1","ZONE=z-e1"]})");
  EXPECT_TRUE(contains(sent.target, "name=renamed")) << sent.target;
  EXPECT_TRUE(f.e1.has_container("renamed"));

  f.decider.on_remap = [](const v1::RemapContainerRequest&, v1::RemapContainerResponse& resp) {
    resp.set_body("not json");
    return grpc::Status::OK;
  };
  EXPECT_EQ(f.request("POST", "/v1.41/containers/create", R"({"Image":"img"})").result_int(), 500);
  f.decider.on_remap = [](const v1::RemapContainerRequest&, v1::RemapContainerResponse&) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no privileged containers here");
  };
  auto denied = f.request("POST", "/v1.41/containers/create", R"({"Image":"img"})");
  EXPECT_EQ(denied.result_int(), 403);
  EXPECT_TRUE(contains(denied.body(), "no privileged containers here")) << denied.body();
}

TEST(Flock, RegistryAuthFillsMissingCredentials) {
  FlockHarness f;
  f.decider.on_route = [](const v1::RouteRequest&, v1::RouteResponse& resp) {
    resp.add_hosts("e3");
    return grpc::Status::OK;
  };
  // UNIMPLEMENTED: the pull goes without credentials.
  f.request("POST", "/v1.41/images/create?fromImage=reg.example%3A5000%2Fapp&tag=1", "", "X-Registry-Auth: e30=\r\n");
  EXPECT_EQ(f.e3.requests("/images/create").back().headers["X-Registry-Auth"], "e30=");
  FlockHarness g;
  g.decider.on_route = f.decider.on_route;
  g.decider.on_auth = [](const v1::RegistryAuthRequest& req, v1::RegistryAuthResponse& resp) {
    EXPECT_EQ(req.registry(), "reg.example:5000");
    EXPECT_EQ(req.host(), "e3");
    resp.set_username("robot");
    resp.set_password("s3cret");
    return grpc::Status::OK;
  };
  g.request("POST", "/v1.41/images/create?fromImage=reg.example%3A5000%2Fapp&tag=1");
  auto header = g.e3.requests("/images/create").back().headers["X-Registry-Auth"];
  // base64url of {"username":"robot","password":"s3cret","serveraddress":"reg.example:5000"}
  EXPECT_EQ(header, "eyJ1c2VybmFtZSI6InJvYm90IiwicGFzc3dvcmQiOiJzM2NyZXQiLCJzZXJ2ZXJhZGRyZXNzIjoicmVnLmV4YW1wbGU6NTAwMCJ9");
  // Credentials the client sent are never replaced.
  g.request("POST", "/v1.41/images/create?fromImage=x&tag=1", "", "X-Registry-Auth: eyJ1c2VybmFtZSI6Im1lIn0=\r\n");
  EXPECT_EQ(g.e3.requests("/images/create").back().headers["X-Registry-Auth"], "eyJ1c2VybmFtZSI6Im1lIn0=");
}

TEST(Flock, ADecisionErrorReachesTheUserWithItsMessage) {
  FlockHarness f;
  f.decider.on_route = [](const v1::RouteRequest&, v1::RouteResponse&) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "zone b is full");
  };
  auto res = f.request("POST", "/v1.41/containers/create", R"({"Image":"img"})");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(res.body(), "{\"message\":\"zone b is full\"}\n");
  f.decider.on_route = [](const v1::RouteRequest&, v1::RouteResponse& resp) {
    resp.add_hosts("e9");
    return grpc::Status::OK;
  };
  auto unknown = f.request("POST", "/v1.41/containers/create", R"({"Image":"img"})");
  EXPECT_EQ(unknown.result_int(), 503);
  EXPECT_TRUE(contains(unknown.body(), "'e9', which is not in the flock")) << unknown.body();
}

TEST(Flock, ASlowDeciderFailsClosedByDefault) {
  FlockHarness f(flock::DeciderFailure::kFail, 200ms);
  f.e1.add_container("existing", "img", 1);
  f.decider.delay = 600ms;
  auto res = f.request("POST", "/v1.41/containers/create", R"({"Image":"img"})");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_TRUE(contains(res.body(), "is unavailable")) << res.body();
  EXPECT_TRUE(contains(res.body(), "Deadline Exceeded")) << res.body();
  // Reads need no decider.
  EXPECT_EQ(f.request("GET", "/v1.41/containers/json").result_int(), 200);
  EXPECT_EQ(f.request("GET", "/v1.41/containers/existing/json").result_int(), 200);
}

TEST(Flock, ASlowDeciderCanFailOpenRoundRobin) {
  FlockHarness f(flock::DeciderFailure::kRoundRobin, 200ms);
  for (auto* e : {&f.e1, &f.e2, &f.e3}) e->add_image("img:latest");
  f.decider.delay = 600ms;
  int created = 0;
  for (int i = 0; i < 3; ++i) {
    created += f.request("POST", "/v1.41/containers/create", R"({"Image":"img"})").result_int() == 201;
  }
  EXPECT_EQ(created, 3);
  EXPECT_EQ(f.e1.requests("/containers/create").size(), 1u);
  EXPECT_EQ(f.e2.requests("/containers/create").size(), 1u);
  EXPECT_EQ(f.e3.requests("/containers/create").size(), 1u);
}

TEST(Flock, AHostDownIsUnhealthyItsContainersAnswer502AndItComesBack) {
  FlockHarness f;
  f.e2.add_container("on-e2", "img", 1);
  f.e1.add_container("on-e1", "img", 2);
  ASSERT_EQ(f.request("GET", "/v1.41/containers/on-e2/json").result_int(), 200);
  f.e2.stop();
  ASSERT_TRUE(f.wait_healthy(2));
  auto res = f.request("GET", "/v1.41/containers/on-e2/json");
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_TRUE(contains(res.body(), "host e2 (" + f.e2.address() + ") is unreachable")) << res.body();
  auto list = f.request("GET", "/v1.41/containers/json");
  EXPECT_EQ(list.result_int(), 200);
  EXPECT_EQ(field_of_each(list.body(), "Id").size(), 1u);
  EXPECT_TRUE(contains(f.request("GET", "/v1.41/info").body(), "Unhealthy")) << "docker info shows it";
  for (int i = 0; i < 4; ++i) {  // new work avoids it
    f.request("POST", "/v1.41/containers/create", R"({"Image":"img"})");
  }
  {
    std::lock_guard lock(f.decider.mu);
    for (const auto& c : f.decider.routes.back().candidates()) EXPECT_EQ(c.healthy(), c.name() != "e2") << c.name();
  }
  f.e2.start();  // back on the same port, without restarting the proxy
  ASSERT_TRUE(f.wait_healthy(3));
  EXPECT_EQ(f.request("GET", "/v1.41/containers/on-e2/json").result_int(), 200);
}

TEST(Flock, APullToSeveralHostsMergesTheirProgress) {
  FlockHarness f;
  f.decider.on_route = [](const v1::RouteRequest& req, v1::RouteResponse& resp) {
    for (const auto& c : req.candidates()) resp.add_hosts(c.name());
    return grpc::Status::OK;
  };
  auto res = f.request("POST", "/v1.41/images/create?fromImage=busybox&tag=latest");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_TRUE(res.chunked());
  for (const char* host : {"e1", "e2", "e3"}) {
    EXPECT_TRUE(contains(res.body(), std::string("\"id\":\"") + host + "/abc123\"")) << res.body();
    EXPECT_TRUE(contains(res.body(), std::string("\"id\":\"") + host + "\"")) << res.body();
  }
  simdjson::dom::parser p;
  int lines = 0;
  for (std::size_t start = 0, nl; (nl = res.body().find('\n', start)) != std::string::npos; start = nl + 1) {
    EXPECT_FALSE(p.parse(res.body().substr(start, nl - start)).error()) << "not JSON: " << res.body().substr(start, nl - start);
    ++lines;
  }
  EXPECT_EQ(lines, 9);
}

TEST(Flock, ALoadToSeveralHostsCopiesTheUploadToEach) {
  FlockHarness f;
  f.decider.on_route = [](const v1::RouteRequest& req, v1::RouteResponse& resp) {
    EXPECT_EQ(req.kind(), v1::OPERATION_KIND_IMAGE_LOAD);
    for (const auto& c : req.candidates()) resp.add_hosts(c.name());
    return grpc::Status::OK;
  };
  RawClient c(f.address());
  c.send("POST /v1.41/images/load?quiet=0 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\n"
         "Transfer-Encoding: chunked\r\n\r\n");
  std::string archive;
  for (int i = 0; i < 48; ++i) {  // 3 MiB in 64 KiB chunks, as the CLI streams a tarball
    std::string piece(64 * 1024, static_cast<char>('a' + i % 26));
    archive += piece;
    c.send("10000\r\n" + piece + "\r\n");
  }
  c.send("0\r\n\r\n");
  auto res = c.read_response();
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const uint64_t sum = checksum_update(1469598103934665603ull, archive.data(), archive.size());
  for (auto* e : {&f.e1, &f.e2, &f.e3}) {
    auto loads = e->loads();
    ASSERT_EQ(loads.size(), 1u) << e->name();
    EXPECT_EQ(loads[0].bytes, archive.size()) << e->name();
    EXPECT_EQ(loads[0].sum, sum) << e->name();
    EXPECT_TRUE(contains(res.body(), "Loaded 3145728 bytes on " + e->name())) << res.body();
  }
}

TEST(Flock, SharedVolumesCreatedEverywhereAreListedOnce) {
  FlockHarness f;
  f.decider.on_route = [](const v1::RouteRequest& req, v1::RouteResponse& resp) {
    EXPECT_EQ(req.scope(), v1::OBJECT_SCOPE_SHARED) << req.body();
    for (const auto& c : req.candidates()) resp.add_hosts(c.name());
    return grpc::Status::OK;
  };
  // Shared storage: the local driver on NFS, and a volume plugin's driver.
  EXPECT_EQ(f.request("POST", "/v1.41/volumes/create",
                      R"({"Name":"data","DriverOpts":{"type":"nfs","o":"addr=198.18.0.1","device":":/x"}})")
                .result_int(),
            201);
  auto unnamed = f.request("POST", "/v1.41/volumes/create", R"({"Driver":"sharedfs"})");
  EXPECT_EQ(unnamed.result_int(), 201);
  auto list = f.request("GET", "/v1.41/volumes");
  simdjson::dom::parser p;
  ASSERT_EQ(p.parse(list.body())["Volumes"].get_array().size(), 2u) << list.body();
  // The unnamed volume got one generated name, the same on every host.
  auto a = f.e1.requests("/volumes/create").back().body, b = f.e3.requests("/volumes/create").back().body;
  EXPECT_EQ(a, b);
  EXPECT_TRUE(contains(a, "\"Name\":\"")) << a;
}

TEST(Flock, EventsFromEveryHostTaggedAndTheStreamEndsWithItsClient) {
  FlockHarness f;
  RawClient c(f.address());
  c.send(request_text("GET", "/v1.41/events"));
  EXPECT_EQ(c.read_response_header().result_int(), 200);
  for (int i = 0; i < 100 && f.e1.open_event_streams() < 2; ++i) std::this_thread::sleep_for(10ms);
  f.e2.emit_event(R"({"Type":"container","Action":"start","Actor":{"ID":"x","Attributes":{"name":"n"}}})");
  std::string got;
  while (!contains(got, "\"Action\":\"start\"")) got += c.read_some();
  EXPECT_TRUE(contains(got, "\"com.docker.flocker.host\":\"e2\"")) << got;
  const int streams = f.e1.open_event_streams();
  c.socket().close();  // the client goes away; the engines' streams for it must end
  for (int i = 0; i < 100 && f.e1.open_event_streams() >= streams; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_LT(f.e1.open_event_streams(), streams);
}

TEST(Flock, SwarmModeAnswersAsAnEngineOutsideASwarmAndTheRestIsRefusedClearly) {
  FlockHarness f;  // (the engines are outside a swarm: one of them answers, as it would)
  for (const char* path : {"/v1.41/swarm", "/v1.41/services", "/v1.41/nodes", "/v1.41/secrets", "/v1.41/configs"}) {
    auto res = f.request("GET", path);
    EXPECT_EQ(res.result_int(), 503) << path;
    EXPECT_TRUE(contains(res.body(), "This node is not a swarm manager")) << res.body();
  }
  auto leave = f.request("POST", "/v1.41/swarm/leave?force=1");
  EXPECT_EQ(leave.result_int(), 503);
  EXPECT_TRUE(contains(leave.body(), "This node is not part of a swarm")) << leave.body();
  auto init = f.request("POST", "/v1.41/swarm/init", "{}");
  EXPECT_EQ(init.result_int(), 503);
  EXPECT_TRUE(contains(init.body(), "a flock cannot start or join a swarm")) << init.body();
  auto install = f.request("POST", "/v1.41/plugins/pull?remote=x");
  EXPECT_EQ(install.result_int(), 403);
  EXPECT_TRUE(contains(install.body(), "plugins are not installed through a flock")) << install.body();
  EXPECT_EQ(f.request("POST", "/session").result_int(), 400) << "no upgrade asked: the engine's answer (BuildKit.*)";
  EXPECT_EQ(f.request("GET", "/v1.41/whatever").result_int(), 404);
  for (auto* e : {&f.e1, &f.e2, &f.e3}) EXPECT_TRUE(e->requests("/swarm/init").empty()) << "never asked";
}

TEST(Flock, AnApiVersionTheFlockDoesNotServeIsRefusedAsDockerdRefusesIt) {
  FlockHarness f;
  auto too_new = f.request("GET", "/v1.99/info");
  EXPECT_EQ(too_new.result_int(), 400);
  EXPECT_TRUE(contains(too_new.body(), "client version 1.99 is too new. Maximum supported API version is 1.41"))
      << too_new.body();
  auto too_old = f.request("GET", "/v1.11/_ping");
  EXPECT_EQ(too_old.result_int(), 400);
  EXPECT_EQ(too_old.body(),
            "client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a "
            "newer version\n");
  EXPECT_EQ(f.request("GET", "/v1.24/info").result_int(), 200);
  EXPECT_TRUE(contains(f.request("GET", "/v1.24/info").body(), "\"ExecutionDriver\":\"not supported\""));
  EXPECT_EQ(f.request("GET", "/info").result_int(), 200);
}

TEST(Flock, UndecodableCreateBodiesGetDockersOwnAnswer) {
  FlockHarness f;
  auto res = f.request("POST", "/v1.41/containers/create", "{not json");
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_TRUE(contains(res.body(), "message")) << res.body();
  std::lock_guard lock(f.decider.mu);
  EXPECT_TRUE(f.decider.routes.empty()) << "nothing to decide on";
}
