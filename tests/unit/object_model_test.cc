// The object model's lookups (docker's resolution order, flock-wide), its snapshots (what a
// reader holds never changes; a change copies only what it touches), and the pure rules
// around it: what a create body refers to, what engines' lists and events say, and where a
// container with requirements may go.
#include <gtest/gtest.h>

#include <thread>

#include "docker/create_refs.h"
#include "docker/objects.h"
#include "flock/coordination/buildkit_pins.h"
#include "flock/model/object_model.h"
#include "flock/control/placement.h"

using namespace flocker;
using namespace flocker::flock;
using Kind = docker::CreateRef::Kind;

namespace {

std::string hex64(char c) { return std::string(64, c); }

// A container as a host's list and inspect describe it (what the model needs of them).
std::shared_ptr<const docker::ListedContainer> listed(std::string id, std::string name, std::string image,
                                                      int64_t created) {
  auto c = std::make_shared<docker::ListedContainer>();
  c->id = std::move(id);
  c->name = "/" + name;
  c->names = {c->name};
  c->image_ref = std::move(image);
  c->created = created;
  c->created_ns = created * 1'000'000'000;
  c->state_word = "created";
  return c;
}

void two_hosts(ObjectModel& m) {
  m.replace_host("e1", m.begin_read(), {listed(hex64('a'), "web", "busybox", 1), listed("ab" + std::string(62, '0'), "db", "pg", 2)},
                 {{"sha256:" + hex64('1'), {"busybox:latest", "127.0.0.1:5000/busybox@sha256:" + hex64('9')}}},
                 {{"data", "local"}}, {{hex64('e'), "appnet", "bridge", "local"}});
  m.replace_host("e2", m.begin_read(), {listed("ac" + std::string(62, '0'), "cache", "redis", 3)},
                 {{"sha256:" + hex64('2'), {"app:1"}}}, {{"shared", "nfsplugin"}},
                 {{"bridge" + hex64('b').substr(6), "bridge", "bridge", "local"}});
}

}  // namespace

TEST(ObjectModel, ContainersResolveAsDockerDoesAcrossTheFlock) {
  ObjectModel m;
  two_hosts(m);
  auto s = m.snapshot();
  EXPECT_EQ(s->container(hex64('a')).container.host, "e1");          // full ID
  EXPECT_EQ(s->container("/cache").container.host, "e2");            // a name, with docker's '/'
  EXPECT_EQ(s->container("ac").container.name, "cache");             // a unique prefix
  EXPECT_EQ(s->container("a").found, ModelSnapshot::Found::kAmbiguous);  // on two hosts
  EXPECT_EQ(s->container("nope").found, ModelSnapshot::Found::kNone);
  EXPECT_EQ(s->container("").found, ModelSnapshot::Found::kNone);
  ASSERT_TRUE(s->container_by_name("db"));
  EXPECT_FALSE(s->container_by_name("ab"));  // a name lookup is not a prefix lookup
}

TEST(ObjectModel, ImagesVolumesAndNetworksByEveryNameDockerAccepts) {
  ObjectModel m;
  two_hosts(m);
  auto s = m.snapshot();
  const std::vector<std::string> refs{"busybox", "busybox:latest", "docker.io/library/busybox", "sha256:1111",
                                      "111111", "127.0.0.1:5000/busybox@sha256:" + hex64('9')};
  for (const auto& ref : refs) {
    EXPECT_EQ(s->image_holders(ref), std::vector<std::string>{"e1"}) << ref;
  }
  EXPECT_TRUE(s->image_holders("busybox:1").empty());
  EXPECT_TRUE(s->image_holders("xyz").empty());
  EXPECT_EQ(s->volume_holders("shared"), std::vector<std::string>{"e2"});
  EXPECT_EQ(s->network_holders("appnet"), std::vector<std::string>{"e1"});
  EXPECT_EQ(s->network_holders("eeee"), std::vector<std::string>{"e1"});  // an ID prefix
  EXPECT_EQ(s->network_holders("bridge"), std::vector<std::string>{"e2"});
}

TEST(ObjectModel, ASnapshotNeverChangesAndAChangeCopiesOnlyWhatItTouches) {
  ObjectModel m;
  two_hosts(m);
  auto before = m.snapshot();
  m.edit("e1", [](HostEdit& e) {
    e.containers().put({hex64('f'), "e1", "/new", "busybox", 9});
    e.containers().remove(hex64('a'));
  });
  auto after = m.snapshot();
  EXPECT_TRUE(before->container_by_name("web"));
  EXPECT_FALSE(before->container_by_name("new"));
  EXPECT_FALSE(after->container_by_name("web"));
  EXPECT_EQ(after->container_by_name("new")->host, "e1");
  // The untouched tables and hosts are the same objects, not copies.
  EXPECT_NE(before->host("e1")->containers, after->host("e1")->containers);
  EXPECT_EQ(before->host("e1")->images, after->host("e1")->images);
  EXPECT_EQ(before->host("e1")->volumes, after->host("e1")->volumes);
  EXPECT_EQ(before->host("e2"), after->host("e2"));
}

TEST(ObjectModel, RepeatsKeepWhatIsKnownAndRenamesMoveTheName) {
  ObjectModel m;
  m.edit("e1", [](HostEdit& e) { e.containers().put({hex64('c'), "e1", "web", "busybox", 5}); });
  // The create event after the proxy's own put: no name loss, no duplicate.
  m.edit("e1", [](HostEdit& e) { e.containers().put({hex64('c'), "e1", "", "", 0}); });
  auto s = m.snapshot();
  EXPECT_EQ(s->container_by_name("web")->image, "busybox");
  EXPECT_EQ(s->host("e1")->containers->by_id.size(), 1u);
  m.edit("e1", [](HostEdit& e) { e.containers().rename(hex64('c'), "/api"); });
  EXPECT_FALSE(m.snapshot()->container_by_name("web"));
  EXPECT_EQ(m.snapshot()->container_by_name("api")->id, hex64('c'));
}

TEST(ObjectModel, AHostIsSyncedByAListingUntilItsStreamIsLost) {
  ObjectModel m;
  two_hosts(m);
  EXPECT_TRUE(m.snapshot()->all_synced({"e1", "e2"}));
  m.mark_unsynced("e2");
  EXPECT_FALSE(m.snapshot()->all_synced({"e1", "e2"}));
  EXPECT_TRUE(m.snapshot()->container_by_name("cache")) << "what it held is kept";
  m.edit("e3", [](HostEdit&) {});  // known from a change only: not synced
  EXPECT_FALSE(m.snapshot()->all_synced({"e3"}));
  m.drop_host("e1");
  EXPECT_FALSE(m.snapshot()->container_by_name("web"));
  EXPECT_EQ(m.sizes().hosts, 2u);
}

TEST(CreateRefs, EveryReferenceOfACreateBodyAsTheEngineReadsIt) {
  auto refs = docker::create_refs(R"({
    "Image": "busybox",
    "HostConfig": {
      "VolumesFrom": ["data:ro", "other"],
      "Links": ["/db:/web/db", "cache:c"],
      "NetworkMode": "container:net1",
      "pidmode": "container:p1",
      "IpcMode": "shareable",
      "Binds": ["vol:/a", "/host/path:/b", "./rel:/c", ":/anon", "v2:/d:ro"],
      "Mounts": [{"Type": "volume", "Source": "m1", "Target": "/m",
                  "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": {"type": "nfs"}}}},
                 {"Type": "bind", "Source": "/x", "Target": "/y"},
                 {"Type": "volume", "Target": "/anon"}]
    },
    "NetworkingConfig": {"EndpointsConfig": {"appnet": {}, "bridge": {}}}
  })");
  EXPECT_EQ(refs.image, "busybox");
  std::vector<std::string> got;
  for (const auto& r : refs.refs) got.push_back(r.field + " " + r.object);
  EXPECT_EQ(got, (std::vector<std::string>{
                     "HostConfig.VolumesFrom data", "HostConfig.VolumesFrom other", "HostConfig.Links db",
                     "HostConfig.Links cache", "HostConfig.NetworkMode net1", "HostConfig.PidMode p1",
                     "HostConfig.Binds vol", "HostConfig.Binds v2", "HostConfig.Mounts m1",
                     "NetworkingConfig.EndpointsConfig appnet"}));
  EXPECT_EQ(refs.refs[8].volume_fs_type, "nfs");
  auto net = docker::create_refs(R"({"HostConfig":{"NetworkMode":"appnet","networkmode":"backend"}})");
  ASSERT_EQ(net.refs.size(), 1u);
  EXPECT_EQ(net.refs[0].object, "backend") << "the last repeat wins, as in Go";
  EXPECT_EQ(net.refs[0].kind, Kind::kNetwork);
  for (const char* mode : {"bridge", "host", "none", "default", ""}) {
    EXPECT_TRUE(docker::create_refs(std::string(R"({"HostConfig":{"NetworkMode":")") + mode + "\"}}").refs.empty())
        << mode;
  }
  EXPECT_TRUE(docker::create_refs("not json").refs.empty());
}

TEST(EngineObjects, ListsAndEventsAsEnginesSendThem) {
  auto containers = docker::parse_container_list(
      R"([{"Id":"abc","Names":["/web/db","/db"],"Image":"pg","Created":7},{"Names":["/x"]}])");
  ASSERT_TRUE(containers);
  ASSERT_EQ(containers->size(), 1u);  // an entry without an ID is not a container
  EXPECT_EQ((*containers)[0].name, "db");
  auto images = docker::parse_image_list(
      R"([{"Id":"sha256:1","RepoTags":["busybox:latest","<none>:<none>"],"RepoDigests":["<none>@<none>"]}])");
  ASSERT_TRUE(images);
  EXPECT_EQ((*images)[0].refs, std::vector<std::string>{"busybox:latest"});
  auto none = docker::parse_volume_list(R"({"Volumes":null,"Warnings":null})");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(docker::parse_volume_list("[]"));
  EXPECT_FALSE(docker::parse_network_list("{}"));
  auto e = docker::parse_event(
      R"({"Type":"network","Action":"create","Actor":{"ID":"n1","Attributes":{"name":"appnet","type":"bridge"}},"time":3})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->driver, "bridge");
  EXPECT_EQ(e->name, "appnet");
  EXPECT_TRUE(docker::volume_is_shared("nfsplugin", ""));
  EXPECT_TRUE(docker::volume_is_shared("local", "cifs"));
  EXPECT_FALSE(docker::volume_is_shared("", "tmpfs"));
  EXPECT_TRUE(docker::network_driver_is_local("macvlan"));
  EXPECT_FALSE(docker::network_driver_is_local("overlay"));
}

TEST(Placement, TheHostsHoldingEverythingOrTheConflictNamingEachObject) {
  auto req = [](v1::RequirementKind kind, std::string object, std::string field, std::vector<std::string> hosts) {
    v1::Requirement r;
    r.set_kind(kind);
    r.set_object(std::move(object));
    r.set_referred_by(std::move(field));
    for (auto& h : hosts) r.add_hosts(h);
    return r;
  };
  EXPECT_FALSE(place({}).allowed) << "no requirement: any host";
  auto shared = place({req(v1::REQUIREMENT_KIND_VOLUME, "v", "HostConfig.Binds", {"e1", "e2", "e3"}),
                       req(v1::REQUIREMENT_KIND_NETWORK, "n", "HostConfig.NetworkMode", {"e2", "e3"})});
  EXPECT_EQ(*shared.allowed, (std::set<std::string>{"e2", "e3"}));
  EXPECT_TRUE(shared.conflict.empty());
  auto apart = place({req(v1::REQUIREMENT_KIND_CONTAINER, "data", "HostConfig.VolumesFrom", {"e1"}),
                      req(v1::REQUIREMENT_KIND_NETWORK, "backend", "NetworkingConfig.EndpointsConfig", {"e2", "e3"})});
  EXPECT_TRUE(apart.allowed->empty());
  EXPECT_EQ(apart.conflict,
            "cannot create this container: what it refers to is on different hosts of the flock, and a "
            "container runs on one host: container \"data\" (HostConfig.VolumesFrom) is on host e1; network "
            "\"backend\" (NetworkingConfig.EndpointsConfig) is on hosts e2, e3");
}

TEST(ObjectModel, AHostsUsageIsSummedWhenItsContainersChange) {
  ObjectModel m;
  m.edit("e1", [](HostEdit& e) {
    e.containers().put({hex64('1'), "e1", "a", "busybox", 1, true, {{"", 8080, "tcp"}}, 500000000, 1 << 20});
    e.containers().put({hex64('2'), "e1", "b", "busybox", 2, false, {{"", 9090, "tcp"}}, 250000000, 0});
  });
  auto usage = m.snapshot()->host("e1")->containers->usage;
  EXPECT_EQ(usage.nano_cpus, 750000000);
  EXPECT_EQ(usage.memory, 1 << 20);
  ASSERT_EQ(usage.published.size(), 1u) << "only running containers publish";
  EXPECT_EQ(usage.published[0].port, 8080u);
  m.edit("e1", [](HostEdit& e) { e.containers().remove(hex64('1')); });
  usage = m.snapshot()->host("e1")->containers->usage;
  EXPECT_EQ(usage.nano_cpus, 250000000);
  EXPECT_TRUE(usage.published.empty());
}

namespace {

docker::ImageSummary image(char id, std::vector<std::string> tags, int64_t created = 1) {
  docker::ImageSummary s{"sha256:" + hex64(id), std::move(tags)};
  s.created = created;
  return s;
}

// A host's image table from its list, the marks as a relist gives them (seen now).
std::vector<std::string> relist(ObjectModel& m, const std::string& host, std::vector<docker::ImageSummary> images,
                                int64_t now) {
  std::vector<std::string> moved;
  m.edit(host, [&](HostEdit& e) {
    const auto before = e.objects().images;
    auto& t = e.images();
    t = ImageTable{};
    for (auto& i : images) t.put(std::move(i));
    moved = t.mark_tags(before.get(), now, true);
  });
  return moved;
}

}  // namespace

TEST(ObjectModel, ATagNamesItsNewestAssignmentAcrossTheFlock) {
  ObjectModel m;
  // Listed first: the marks are estimates (the images' creation), nothing was seen moving.
  auto moved = m.replace_host("e1", m.begin_read(), {}, {image('1', {"app:latest"}, 100)}, {}, {});
  EXPECT_EQ(moved, std::vector<std::string>{"app:latest"}) << "new to the model";
  m.replace_host("e2", m.begin_read(), {}, {image('2', {"app:latest"}, 200), image('1', {"keep:1"}, 100)}, {}, {});
  auto s = m.snapshot();
  EXPECT_TRUE(s->host("e1")->images->tagged.at("app:latest").estimated);
  EXPECT_EQ(s->host("e1")->images->tagged.at("app:latest").ns, 100'000'000'000);
  auto app = s->resolve_image("app");
  EXPECT_EQ(app.winner_id, "sha256:" + hex64('2'));
  EXPECT_EQ(app.winner_host, "e2");
  EXPECT_EQ(app.tag, "app:latest");
  EXPECT_EQ(s->image_holders("app"), std::vector<std::string>{"e2"}) << "e1 keeps an older image under it";
  EXPECT_EQ(s->disagreeing({"app:latest", "keep:1", "nope:1"}), std::vector<std::string>{"app:latest"});
  EXPECT_FALSE(s->host("e1")->image(app)) << "as the flock resolves it";
  EXPECT_TRUE(s->host("e1")->image("app")) << "as e1 alone resolves it";
  // Seen moving on e1 now (a build there): newest, whatever its image's age.
  moved = relist(m, "e1", {image('3', {"app:latest"}, 50)}, 300'000'000'000);
  EXPECT_EQ(moved, std::vector<std::string>{"app:latest"});
  s = m.snapshot();
  EXPECT_FALSE(s->host("e1")->images->tagged.at("app:latest").estimated);
  EXPECT_EQ(s->resolve_image("app:latest").winner_id, "sha256:" + hex64('3'));
  // A relist that finds it unchanged keeps when it moved.
  EXPECT_TRUE(relist(m, "e1", {image('3', {"app:latest", "other:1"}, 50)}, 400'000'000'000) ==
              std::vector<std::string>{"other:1"});
  EXPECT_EQ(m.snapshot()->host("e1")->images->tagged.at("app:latest").ns, 300'000'000'000);
  // IDs, digests and references no host has as a tag resolve as given.
  EXPECT_TRUE(m.snapshot()->resolve_image("sha256:" + hex64('1')).winner_id.empty());
  EXPECT_EQ(m.snapshot()->image_holders("111111"), std::vector<std::string>{"e2"});
  EXPECT_TRUE(m.snapshot()->resolve_image("app@sha256:" + hex64('9')).winner_id.empty());
}

TEST(ObjectModel, ANetworkThatMovedIsNamedByItsOldIds) {
  ObjectModel m;
  m.alias_network(hex64('a'), hex64('b'));
  m.alias_network(hex64('b'), hex64('c'));  // moved again
  auto s = m.snapshot();
  EXPECT_EQ(s->network_alias(hex64('a')), hex64('c'));
  EXPECT_EQ(s->network_alias("aaaa"), hex64('c')) << "a unique prefix";
  EXPECT_FALSE(s->network_alias(hex64('c'))) << "its ID now is no alias";
  EXPECT_FALSE(s->network_alias("appnet"));
}

TEST(ObjectModel, ANetworkByFullIdBeforeAnotherNamedSo) {
  ObjectModel m;
  m.replace_host("e1", m.begin_read(), {}, {}, {}, {{hex64('f'), "first", "bridge", "local"}});
  m.replace_host("e2", m.begin_read(), {}, {}, {}, {{hex64('9'), hex64('f'), "bridge", "local"}});
  EXPECT_EQ(m.snapshot()->network_holders(hex64('f')), std::vector<std::string>{"e1"}) << "dockerd: full ID, then name";
  EXPECT_EQ(m.snapshot()->network_holders("first"), std::vector<std::string>{"e1"});
}

TEST(BuildKitPins, AClientsConnectionsStayTogetherWhileOpenAndALittleAfter) {
  using namespace std::chrono_literals;
  BuildKitPins pins(50ms);
  EXPECT_FALSE(pins.pinned("10.0.0.1"));
  {
    auto grpc = pins.hold("10.0.0.1", "e2", "", "");
    auto session = pins.hold("10.0.0.1", "e2", "s1", "ctx:node");
    EXPECT_EQ(pins.pinned("10.0.0.1"), "e2");
    EXPECT_FALSE(pins.pinned("10.0.0.2")) << "another client decides for itself";
    EXPECT_EQ(pins.pinned("10.0.0.2", "s1"), "e2") << "a session goes where it was opened";
  }
  EXPECT_EQ(pins.pinned("10.0.0.1"), "e2") << "a moment after the last closed (buildx's probe, then its dial)";
  std::this_thread::sleep_for(80ms);
  EXPECT_FALSE(pins.pinned("10.0.0.1"));
  // Where the next build's cache is: its context's host, else the client's.
  EXPECT_EQ(pins.cache_host("10.0.0.9", "ctx:node"), "e2");
  EXPECT_EQ(pins.cache_host("10.0.0.1", "other"), "e2");
  EXPECT_EQ(pins.cache_host("10.0.0.9", ""), "");
  pins.remember_build("b1", "e3");
  EXPECT_EQ(pins.build_host("b1"), "e3");
  EXPECT_FALSE(pins.build_host("b2"));
}
