// One engine over time, on fake engines: a tag names one image across the flock (the newest
// assignment; hosts that kept an older one brought in line; a create never runs it), info's
// SystemTime is now and its Images are distinct, ps since/before compares exact creation
// times across hosts, a network that moved keeps the ID it was given and follows a
// `network connect`, network rm resolves as dockerd does, builds go where their images are,
// and link aliases show in ps Names through renames.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <simdjson.h>

#include "docker/docker_time.h"
#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

std::string sha(char c) { return "sha256:" + std::string(64, c); }

void route_to(FlockHarness& f, const std::string& host) {
  f.decider.on_route = [host](const v1::RouteRequest&, v1::RouteResponse& resp) {
    resp.add_hosts(host);
    return grpc::Status::OK;
  };
}

// The Names of each container of a list answer, joined: "/db,/web/db /web".
std::string names(const std::string& list) {
  simdjson::dom::parser p;
  simdjson::dom::array items;
  std::string out;
  if (p.parse(list).get_array().get(items)) return "not a list: " + list;
  for (auto c : items) {
    std::string one;
    simdjson::dom::array list_names = c["Names"].get_array().value();
    for (auto n : list_names) one += (one.empty() ? "" : ",") + std::string(n.get_string().value());
    out += (out.empty() ? "" : " ") + one;
  }
  return out;
}

// One tar entry (ustar), and the end of the archive.
std::string tar_entry(const std::string& name, const std::string& content) {
  std::string header(512, '\0');
  header.replace(0, name.size(), name);
  header.replace(124, 11, fmt::format("{:011o}", content.size()));
  header[156] = '0';
  header.replace(257, 6, std::string("ustar\0", 6));
  std::string data = content;
  data.resize((content.size() + 511) / 512 * 512, '\0');
  return header + data;
}

// `ref` on engine `e`, known to the proxy.
void give_image(FlockHarness& f, FakeDocker& e, const std::string& ref) {
  e.add_image(ref);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image(e.name(), ref); }));
}

http::response<http::string_body> build(FlockHarness& f, const std::string& query, const std::string& dockerfile) {
  const std::string context = tar_entry("Dockerfile", dockerfile) + std::string(1024, '\0');
  RawClient c(f.address());
  c.send(request_text("POST", "/v1.41/build?" + query, "Content-Type: application/x-tar\r\n", context));
  return c.read_response();
}

}  // namespace

TEST(OverTime, ATagNamesItsNewestImageOnEveryHost) {
  FlockHarness f;
  f.e1.add_image("app:latest", sha('1'));
  f.e3.add_image("app:latest", sha('1'));
  f.e3.add_image("keep:1", sha('2'));  // e3 has the new image, under another name
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e1", "app") && f.knows_image("e3", "keep:1"); }));
  f.e2.add_image("app:latest", sha('2'));  // rebuilt on e2: the newest
  // e1 lacks the newest: untagged (its next create copies it); e3 has it: tagged.
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.e1.image_id("app:latest").empty(); }));
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.e3.image_id("app:latest") == sha('2'); }));
  EXPECT_EQ(field(f.request("GET", "/v1.41/images/app/json").body(), "Id"), sha('2'));
  route_to(f, "e1");
  auto made = f.request("POST", "/v1.41/containers/create?name=one", R"({"Image":"app"})");
  ASSERT_EQ(made.result_int(), 201) << made.body();
  EXPECT_EQ(f.e1.image_id("app:latest"), sha('2')) << "copied before the create";
  EXPECT_EQ(field(f.request("GET", "/v1.41/containers/one/json").body(), "Image"), sha('2'));
  // docker images: the tag once.
  auto list = f.request("GET", "/v1.41/images/json").body();
  std::size_t count = 0;
  for (auto at = list.find("\"app:latest\""); at != std::string::npos; at = list.find("\"app:latest\"", at + 1)) ++count;
  EXPECT_EQ(count, 1u) << list;
  // docker rmi app: gone from every host, whatever image it named there.
  f.e1.add_image("app:latest", sha('3'));  // (newest again, on e1)
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.e2.image_id("app:latest").empty(); }));
  auto removed = f.request("DELETE", "/v1.41/images/app?force=1");
  EXPECT_EQ(removed.result_int(), 200) << removed.body();
  for (auto* e : {&f.e1, &f.e2, &f.e3}) EXPECT_EQ(e->image_id("app:latest"), "") << e->name();
}

TEST(OverTime, ACreateNeverRunsAnOlderImageThanTheTagNames) {
  FlockHarness f;
  f.e1.add_image("app:latest", sha('1'));
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e1", "app"); }));
  // e1 cannot be brought in line (its untag fails), and the newest cannot be copied from e2.
  f.e1.set_fault("/images/app", FakeDocker::Fault::kReset);
  f.e2.set_fault("/images/app", FakeDocker::Fault::kReset);
  f.e2.add_image("app:latest", sha('2'));
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e2", "app"); }));
  route_to(f, "e1");
  auto made = f.request("POST", "/v1.41/containers/create", R"({"Image":"app"})");
  EXPECT_EQ(made.result_int(), 503) << made.body();
  EXPECT_NE(made.body().find("keeps an older image under app:latest"), std::string::npos) << made.body();
  EXPECT_FALSE(f.e1.has_container("c0"));
}

TEST(OverTime, AHostBackFromAnOutageIsBroughtInLineOrWinsWithANewerTag) {
  FlockHarness f;
  f.e1.add_image("app:latest", sha('1'));
  f.e3.add_image("app:latest", sha('1'));
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e1", "app") && f.knows_image("e3", "app"); }));
  f.e3.stop();  // down while the tag moves
  ASSERT_TRUE(f.wait_healthy(2));
  f.e2.add_image("app:latest", sha('2'));
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.e1.image_id("app:latest").empty(); }));
  f.e3.start();  // back, with the older image under the tag: untagged too
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.e3.image_id("app:latest").empty(); }));
  // Down again, and tagged there meanwhile (a build on that engine, never seen moving): its
  // time is dockerd's LastTagTime, newer than e2's; e2 lacks that image: untagged.
  f.e3.stop();
  ASSERT_TRUE(f.wait_healthy(2));
  std::this_thread::sleep_for(20ms);
  f.e3.add_image("app:latest", sha('3'), 1024, /*created=*/5);  // an old image, tagged now
  f.e3.start();
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.e2.image_id("app:latest").empty(); }));
  EXPECT_EQ(f.e3.image_id("app:latest"), sha('3'));
  EXPECT_EQ(field(f.request("GET", "/v1.41/images/app/json").body(), "Id"), sha('3'));
}

TEST(OverTime, SystemTimeIsNowAndImagesAreDistinct) {
  FlockHarness f;
  for (auto* e : {&f.e1, &f.e2, &f.e3}) e->add_image("busybox:latest", sha('b'));
  f.e1.add_image("app:1", sha('a'));
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e3", "busybox") && f.knows_image("e1", "app:1"); }));
  auto first = f.request("GET", "/v1.41/info").body();
  std::this_thread::sleep_for(300ms);
  auto second = f.request("GET", "/v1.41/info").body();
  const int64_t apart = docker::unix_nanos(field(second, "SystemTime")) - docker::unix_nanos(field(first, "SystemTime"));
  EXPECT_GE(apart, 250'000'000) << field(first, "SystemTime") << " " << field(second, "SystemTime");
  EXPECT_LE(apart, 1'000'000'000);
  simdjson::dom::parser p;
  EXPECT_EQ(int64_t(p.parse(second)["Images"].get_int64().value()), 2) << "busybox on three hosts is one image";
}

TEST(OverTime, PsSinceAndBeforeCompareExactTimesAcrossHosts) {
  FlockHarness f;
  for (auto* e : {&f.e1, &f.e2}) e->add_image("img:latest");
  // Made in one second, on two hosts: a (e1), b (e2), c (e1), in that order.
  f.e1.add_container("a", "img", 100, "", true, 100'000'000'010);
  f.e2.add_container("b", "img", 100, "", true, 100'000'000'020);
  f.e1.add_container("c", "img", 100, "", true, 100'000'000'030);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.the_flock->model.sizes().containers == 3; }));
  auto ps = [&](const std::string& key, const std::string& ref, bool live) {
    const std::string filters = docker::url_encode(fmt::format(R"({{"{}":["{}"]}})", key, ref));
    return names(f.request("GET", "/v1.41/containers/json?all=1&filters=" + filters, "",
                           live ? "Cache-Control: no-cache\r\n" : "").body());
  };
  for (bool live : {false, true}) {
    EXPECT_EQ(ps("since", "a", live), "/c /b") << (live ? "live" : "from memory");
    EXPECT_EQ(ps("since", "b", live), "/c") << live;
    EXPECT_EQ(ps("before", "c", live), "/b /a") << live;
    EXPECT_EQ(ps("before", "b", live), "/a") << live;
  }
  EXPECT_EQ(names(f.request("GET", "/v1.41/containers/json?all=1").body()), "/c /b /a") << "newest first, exactly";
}

TEST(OverTime, ANetworkThatMovedKeepsTheIdItWasGiven) {
  FlockHarness f;
  for (auto* e : {&f.e1, &f.e2, &f.e3}) e->add_image("img:latest");
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e3", "img"); }));
  route_to(f, "e1");
  auto made = f.request("POST", "/v1.41/networks/create", R"({"Name":"movenet"})");
  ASSERT_EQ(made.result_int(), 201) << made.body();
  const std::string given = field(made.body(), "Id");
  route_to(f, "e2");  // its first container goes elsewhere: the network follows it
  auto c = f.request("POST", "/v1.41/containers/create?name=m1", R"({"Image":"img","HostConfig":{"NetworkMode":"movenet"}})");
  ASSERT_EQ(c.result_int(), 201) << c.body();
  ASSERT_TRUE(f.e2.has_network("movenet"));
  ASSERT_FALSE(f.e1.has_network("movenet"));
  auto inspect = f.request("GET", "/v1.41/networks/" + given);
  EXPECT_EQ(inspect.result_int(), 200) << inspect.body();
  EXPECT_EQ(field(inspect.body(), "Name"), "movenet");
  EXPECT_EQ(f.request("GET", "/v1.41/networks/" + given.substr(0, 12)).result_int(), 200) << "a prefix of it";
  auto out = f.request("POST", "/v1.41/networks/" + given + "/disconnect", R"({"Container":"m1"})");
  EXPECT_EQ(out.result_int(), 200) << out.body();
  EXPECT_EQ(f.request("DELETE", "/v1.41/containers/m1").result_int(), 204);
  EXPECT_EQ(f.request("DELETE", "/v1.41/networks/" + given).result_int(), 204);
  EXPECT_FALSE(f.e2.has_network("movenet"));
}

TEST(OverTime, NetworkConnectMovesAnUnusedNetworkToTheContainer) {
  FlockHarness f;
  give_image(f, f.e2, "img:latest");
  route_to(f, "e1");
  ASSERT_EQ(f.request("POST", "/v1.41/networks/create", R"({"Name":"connet"})").result_int(), 201);
  route_to(f, "e2");
  ASSERT_EQ(f.request("POST", "/v1.41/containers/create?name=cn", R"({"Image":"img"})").result_int(), 201);
  auto joined = f.request("POST", "/v1.41/networks/connet/connect", R"({"Container":"cn"})");
  EXPECT_EQ(joined.result_int(), 200) << joined.body();
  EXPECT_TRUE(f.e2.has_network("connet"));
  EXPECT_FALSE(f.e1.has_network("connet"));
  EXPECT_EQ(f.e2.requests("/networks/").size() > 0, true);
  // One a container uses stays where it is: joining it from another host is refused.
  ASSERT_EQ(f.request("POST", "/v1.41/networks/create", R"({"Name":"busy"})").result_int(), 201);  // (on e2)
  ASSERT_EQ(f.request("POST", "/v1.41/containers/create?name=user", R"({"Image":"img","HostConfig":{"NetworkMode":"busy"}})").result_int(), 201);
  give_image(f, f.e1, "img:latest");
  route_to(f, "e1");
  ASSERT_EQ(f.request("POST", "/v1.41/containers/create?name=far", R"({"Image":"img"})").result_int(), 201);
  auto refused = f.request("POST", "/v1.41/networks/busy/connect", R"({"Container":"far"})");
  EXPECT_EQ(refused.result_int(), 409) << refused.body();
}

TEST(OverTime, NetworkRmTakesAFullIdBeforeANameAsDockerdDoes) {
  FlockHarness f;
  const std::string id = f.e2.add_network("rmb");
  f.e1.add_network(id);  // a network named with rmb's ID
  ASSERT_TRUE(FlockHarness::eventually([&] {  // (both hosts listed: resolution is the model's)
    auto m = f.the_flock->model.snapshot();
    const auto* h1 = m->host("e1");
    const auto* h2 = m->host("e2");
    return h1 && h2 && h1->synced && h2->synced && h1->networks->id_by_name.count(id) && h2->networks->by_id.count(id);
  }));
  EXPECT_EQ(field(f.request("GET", "/v1.41/networks/" + id).body(), "Name"), "rmb");
  EXPECT_EQ(f.request("DELETE", "/v1.41/networks/" + id).result_int(), 204);
  EXPECT_FALSE(f.e2.has_network("rmb"));
  EXPECT_TRUE(f.e1.has_network(id)) << "the network named so stays";
}

TEST(OverTime, BuildsGoWhereTheirImagesAre) {
  FlockHarness f;
  f.e2.add_image("cachebase:latest", sha('c'));
  f.e3.add_image("base:1", sha('d'));
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.knows_image("e2", "cachebase") && f.knows_image("e3", "base:1"); }));
  const std::string cachefrom = "cachefrom=" + docker::url_encode(R"(["cachebase"])");
  auto one = build(f, "t=x&" + cachefrom, "FROM scratch\n");
  ASSERT_EQ(one.result_int(), 200) << one.body();
  EXPECT_EQ(f.e2.requests("/build").size(), 1u) << "where its cache is";
  auto two = build(f, "t=y", "ARG V=1\nFROM base:${V}\nRUN true\n");
  ASSERT_EQ(two.result_int(), 200) << two.body();
  EXPECT_EQ(f.e3.requests("/build").size(), 1u) << "where its FROM image is";
  {
    std::lock_guard lock(f.decider.mu);
    const auto& req = f.decider.routes.back();
    ASSERT_EQ(req.requirements_size(), 1);
    EXPECT_EQ(req.requirements(0).kind(), v1::REQUIREMENT_KIND_IMAGE);
    EXPECT_EQ(req.requirements(0).referred_by(), "FROM");
    EXPECT_EQ(req.candidates_size(), 1);
  }
  // No host has both: the host chosen gets them first.
  route_to(f, "e1");
  auto three = build(f, "t=z&" + cachefrom, "FROM base:1\n");
  ASSERT_EQ(three.result_int(), 200) << three.body();
  EXPECT_EQ(f.e1.requests("/build").size(), 1u);
  EXPECT_EQ(f.e1.loads().size(), 2u);
  EXPECT_EQ(f.e1.image_id("cachebase:latest"), sha('c'));
  EXPECT_EQ(f.e1.image_id("base:1"), sha('d'));
  // Pulled for the build (pull=1): its FROM image is no requirement.
  route_to(f, "e2");
  ASSERT_EQ(build(f, "t=w&pull=1", "FROM base:1\n").result_int(), 200);
  EXPECT_EQ(f.e2.requests("/build").size(), 2u);
}

TEST(OverTime, LinkAliasesShowInPsNamesThroughRenames) {
  FlockHarness f;
  give_image(f, f.e1, "img:latest");
  route_to(f, "e1");
  ASSERT_EQ(f.request("POST", "/v1.41/containers/create?name=db", R"({"Image":"img"})").result_int(), 201);
  ASSERT_EQ(f.request("POST", "/v1.41/containers/create?name=web", R"({"Image":"img","HostConfig":{"Links":["db:db"]}})").result_int(), 201);
  auto ps = [&] { return names(f.request("GET", "/v1.41/containers/json?all=1").body()); };
  EXPECT_EQ(ps(), "/web /db,/web/db");
  ASSERT_EQ(f.request("POST", "/v1.41/containers/web/rename?name=web2").result_int(), 204);
  EXPECT_EQ(ps(), "/web2 /db,/web2/db");
  ASSERT_EQ(f.request("DELETE", "/v1.41/containers/web2").result_int(), 204);
  EXPECT_EQ(ps(), "/db");
}
