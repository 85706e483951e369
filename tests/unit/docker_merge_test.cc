// Merging every host's answer into one engine's.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "docker/merge.h"
#include "docker/system_merge.h"

using namespace flocker::docker;

namespace {

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& json) {
  return p.parse(json).value();
}

std::vector<std::string> strings(simdjson::dom::element array_of_objects, const char* key) {
  std::vector<std::string> out;
  for (auto e : array_of_objects.get_array()) out.emplace_back(std::string_view(e[key].get_string().value()));
  return out;
}

}  // namespace

TEST(MergeContainers, NewestFirstLimitAfterMergingWithTheHostLabel) {
  std::vector<HostBody> replies{
      {"e1", R"([{"Id":"a","Created":30,"Labels":{"x":"1"}},{"Id":"b","Created":10,"Labels":null}])"},
      {"e2", R"([{"Id":"c","Created":20},{"Id":"d","Created":5,"Labels":{}}])"},
      {"e3", "[]"},
  };
  simdjson::dom::parser p;
  auto all = parse(p, merge_container_lists(replies, -1));
  EXPECT_EQ(strings(all, "Id"), (std::vector<std::string>{"a", "c", "b", "d"}));
  EXPECT_EQ(std::string_view(all.at(0)["Labels"]["x"].get_string().value()), "1");
  EXPECT_EQ(std::string_view(all.at(0)["Labels"]["com.docker.flocker.host"].get_string().value()), "e1");
  EXPECT_EQ(std::string_view(all.at(1)["Labels"]["com.docker.flocker.host"].get_string().value()), "e2");
  EXPECT_EQ(std::string_view(all.at(2)["Labels"]["com.docker.flocker.host"].get_string().value()), "e1");
  simdjson::dom::parser p2;
  EXPECT_EQ(strings(parse(p2, merge_container_lists(replies, 2)), "Id"), (std::vector<std::string>{"a", "c"}));
}

TEST(MergeContainers, BigIntegersStayExact) {
  std::vector<HostBody> replies{{"e1", R"([{"Id":"a","Created":1,"SizeRw":9007199254740993}])"}};
  EXPECT_NE(merge_container_lists(replies, -1).find("9007199254740993"), std::string::npos);
}

TEST(MergeContainers, InvalidJsonNamesTheHost) {
  std::vector<HostBody> replies{{"e7", "{not json"}};
  try {
    merge_container_lists(replies, -1);
    FAIL();
  } catch (const MergeError& e) {
    EXPECT_NE(std::string(e.what()).find("e7"), std::string::npos);
  }
}

TEST(MergeImages, OneEntryPerIdTagsUnited) {
  std::vector<HostBody> replies{
      {"e1", R"([{"Id":"sha256:1","Created":5,"RepoTags":["busybox:latest"],"RepoDigests":["busybox@sha256:d"]}])"},
      {"e2", R"([{"Id":"sha256:1","Created":5,"RepoTags":["busybox:latest","mine:1"],"RepoDigests":null},
                 {"Id":"sha256:2","Created":9,"RepoTags":["app:1"]}])"},
  };
  simdjson::dom::parser p;
  auto merged = parse(p, merge_image_lists(replies));
  EXPECT_EQ(strings(merged, "Id"), (std::vector<std::string>{"sha256:2", "sha256:1"}));
  auto tags = merged.at(1)["RepoTags"].get_array().value();
  EXPECT_EQ(tags.size(), 2u);
  EXPECT_EQ(std::string_view(tags.at(1).get_string().value()), "mine:1");
}

TEST(MergeImages, ATagShowsOnTheImageItNamesOnly) {
  // app:latest is on two images (one host kept an older build under it): the newest keeps
  // it; the older one is listed as dockerd lists an image a rebuild took its tag from.
  const std::string merged =
      R"([{"Id":"sha256:new","Created":9,"RepoTags":["app:latest"],"RepoDigests":[]},)"
      R"({"Id":"sha256:old","Created":5,"RepoTags":["app:latest","keep:1"],"RepoDigests":[]},)"
      R"({"Id":"sha256:older","Created":3,"RepoTags":["app:latest"],"RepoDigests":["app@sha256:d"]},)"
      R"({"Id":"sha256:oldest","Created":1,"RepoTags":["app:latest"],"RepoDigests":[]}])";
  const std::string kept = keep_tags(merged, [](std::string_view tag, std::string_view id) {
    return tag != "app:latest" || id == "sha256:new";
  });
  simdjson::dom::parser p;
  auto list = parse(p, kept);
  auto tags = [&](std::size_t i, const char* key) {
    std::vector<std::string> out;
    simdjson::dom::array items = list.at(i)[key].get_array().value();
    for (auto t : items) out.emplace_back(t.get_string().value());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(tags(0, "RepoTags"), (V{"app:latest"}));
  EXPECT_EQ(tags(1, "RepoTags"), (V{"keep:1"}));
  EXPECT_EQ(tags(2, "RepoTags"), (V{})) << "a digest is left: no <none> tag";
  EXPECT_EQ(tags(2, "RepoDigests"), (V{"app@sha256:d"}));
  EXPECT_EQ(tags(3, "RepoTags"), (V{"<none>:<none>"}));
  EXPECT_EQ(tags(3, "RepoDigests"), (V{"<none>@<none>"}));
  EXPECT_EQ(std::string_view(list.at(3)["Id"].get_string().value()), "sha256:oldest");
}

TEST(MergeNetworksAndVolumes, OnePerName) {
  std::vector<HostBody> nets{{"e1", R"([{"Name":"bridge","Id":"1"},{"Name":"app","Id":"2"}])"},
                             {"e2", R"([{"Name":"bridge","Id":"3"},{"Name":"app","Id":"4"}])"}};
  simdjson::dom::parser p;
  EXPECT_EQ(strings(parse(p, merge_network_lists(nets)), "Id"), (std::vector<std::string>{"1", "2"}));
  std::vector<HostBody> vols{{"e1", R"({"Volumes":[{"Name":"data"}],"Warnings":null})"},
                             {"e2", R"({"Volumes":[{"Name":"data"},{"Name":"logs"}],"Warnings":["w"]})"}};
  simdjson::dom::parser p2;
  auto merged = parse(p2, merge_volume_lists(vols));
  EXPECT_EQ(strings(merged["Volumes"], "Name"), (std::vector<std::string>{"data", "logs"}));
  EXPECT_EQ(merged["Warnings"].get_array().value().size(), 1u);
}

TEST(MergePrune, ArraysJoinedNumbersSummed) {
  std::vector<HostBody> replies{{"e1", R"({"ContainersDeleted":["a"],"SpaceReclaimed":10})"},
                                {"e2", R"({"ContainersDeleted":null,"SpaceReclaimed":5})"},
                                {"e3", R"({"ContainersDeleted":["b","c"],"SpaceReclaimed":0})"}};
  EXPECT_EQ(merge_prune_reports(replies), R"({"ContainersDeleted":["a","b","c"],"SpaceReclaimed":15})");
  std::vector<HostBody> none{{"e1", R"({"NetworksDeleted":null})"}};
  EXPECT_EQ(merge_prune_reports(none), R"({"NetworksDeleted":null})");
}

TEST(MergeSystemDf, SumsAndMerges) {
  std::vector<HostBody> replies{
      {"e1", R"({"LayersSize":100,"Images":[{"Id":"i","Created":1}],"Containers":[{"Id":"c1","Created":2}],"Volumes":[{"Name":"v"}],"BuildCache":[]})"},
      {"e2", R"({"LayersSize":50,"Images":[{"Id":"i","Created":1}],"Containers":[{"Id":"c2","Created":3}],"Volumes":[{"Name":"v"}],"BuildCache":null})"}};
  simdjson::dom::parser p;
  auto df = parse(p, merge_system_df(replies));
  EXPECT_EQ(df["LayersSize"].get_int64().value(), 150);
  EXPECT_EQ(df["Images"].get_array().value().size(), 1u);
  EXPECT_EQ(strings(df["Containers"], "Id"), (std::vector<std::string>{"c2", "c1"}));
}

TEST(MergeInfo, TheFlockIsOneEngine) {
  std::vector<HostSummary> hosts{
      {"e1", "tcp://127.0.0.1:1", {{"zone", "a"}}, true, "",
       R"({"ID":"X","Name":"flock-e1","Containers":3,"ContainersRunning":2,"ContainersPaused":0,"ContainersStopped":1,"Images":4,"NCPU":2,"MemTotal":1000,"ServerVersion":"20.10","Plugins":{"Volume":["local"]}})",
       ""},
      {"e2", "tcp://127.0.0.1:2", {}, true, "",
       R"({"ID":"Y","Name":"flock-e2","Containers":1,"ContainersRunning":1,"ContainersPaused":0,"ContainersStopped":0,"Images":2,"NCPU":2,"MemTotal":500})",
       ""},
      {"e3", "tcp://127.0.0.1:3", {}, false, "connection refused", "", ""},
  };
  FlockIdentity flock{"myflock", "FLOCK:ID", "0.1.0", "127.0.0.1:7070"};
  simdjson::dom::parser p;
  auto info = parse(p, merge_info(hosts, flock));
  EXPECT_EQ(std::string_view(info["Name"].get_string().value()), "myflock");
  EXPECT_EQ(std::string_view(info["ID"].get_string().value()), "FLOCK:ID");
  EXPECT_EQ(info["Containers"].get_int64().value(), 4);
  EXPECT_EQ(info["ContainersRunning"].get_int64().value(), 3);
  EXPECT_EQ(info["ContainersStopped"].get_int64().value(), 1);
  EXPECT_EQ(info["Images"].get_int64().value(), 6);
  // What one container can get: the largest host's (the flock's totals are in SystemStatus).
  EXPECT_EQ(info["NCPU"].get_int64().value(), 2);
  EXPECT_EQ(info["MemTotal"].get_int64().value(), 1000);
  EXPECT_TRUE(info["Plugins"].is_object());  // the base host's fields are kept
  EXPECT_TRUE(info["ExecutionDriver"].error()) << "only for API < 1.25";
  std::string status = simdjson::minify(info["SystemStatus"]);
  EXPECT_NE(status.find("[\"Total CPUs\",\"4\"],[\"Total Memory\",\"1500 B\"]"), std::string::npos) << status;
  simdjson::dom::parser old_parser;
  auto old = parse(old_parser, merge_info(hosts, flock, "1.24"));
  EXPECT_EQ(std::string_view(old["ExecutionDriver"].get_string().value()), "not supported");
  EXPECT_NE(status.find("\" e3\",\"tcp://127.0.0.1:3\""), std::string::npos) << status;
  EXPECT_NE(status.find("Unhealthy: connection refused"), std::string::npos) << status;
  EXPECT_NE(status.find("zone=a"), std::string::npos) << status;
}

TEST(MergeInfo, ReservedCpusAndMemoryAreWhatContainersReserveOfTheHost) {
  std::vector<HostSummary> hosts{
      {"e1", "tcp://127.0.0.1:1", {}, true, "", R"({"NCPU":2,"MemTotal":2147483648})", ""}};
  hosts[0].reserved_nano_cpus = 1'500'000'000;
  hosts[0].reserved_memory = 512 * 1024 * 1024;
  simdjson::dom::parser p;
  auto info = parse(p, merge_info(hosts, FlockIdentity{"f", "ID", "0.1.0", "d"}));
  std::string status = simdjson::minify(info["SystemStatus"]);
  EXPECT_NE(status.find(R"(["  └ Reserved CPUs","1.5 / 2"])"), std::string::npos) << status;
  EXPECT_NE(status.find(R"(["  └ Reserved Memory","512 MiB / 2 GiB"])"), std::string::npos) << status;
}

TEST(MergeInfo, WarningsNameUnhealthyHostsThenTheFlocksOwn) {
  std::vector<HostSummary> hosts{
      {"e1", "tcp://127.0.0.1:1", {}, true, "", R"({"NCPU":2,"Warnings":["engine's own"]})", ""},
      {"e2", "tcp://127.0.0.1:2", {}, false, "refused", "", ""}};
  FlockIdentity flock{"f", "ID", "0.1.0", "d"};
  flock.warnings = {"another flocker-proxy (green, instance a2) serves this flock without --coordination"};
  simdjson::dom::parser p;
  auto info = parse(p, merge_info(hosts, flock));
  EXPECT_EQ(simdjson::minify(info["Warnings"]),
            R"(["host e2 (tcp://127.0.0.1:2) is unhealthy: refused",)"
            R"("another flocker-proxy (green, instance a2) serves this flock without --coordination"])");
  simdjson::dom::parser quiet_parser;
  auto quiet = parse(quiet_parser, merge_info({hosts[0]}, FlockIdentity{"f", "ID", "0.1.0", "d"}));
  EXPECT_EQ(simdjson::minify(quiet["Warnings"]), "[]");
}

TEST(MergeVersion, LowestApiVersionOfAnyHost) {
  std::vector<HostSummary> hosts{
      {"e1", "a", {}, true, "", "", R"({"Version":"20.10","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux"})"},
      {"e2", "b", {}, true, "", "", R"({"Version":"19.03","ApiVersion":"1.40","MinAPIVersion":"1.13","Os":"linux"})"}};
  FlockIdentity flock{"f", "id", "0.1.0", "d"};
  simdjson::dom::parser p;
  auto v = parse(p, merge_version(hosts, flock));
  EXPECT_EQ(std::string_view(v["ApiVersion"].get_string().value()), "1.40");
  EXPECT_EQ(std::string_view(v["MinAPIVersion"].get_string().value()), "1.13");
  EXPECT_EQ(std::string_view(v["Version"].get_string().value()), "flocker-0.1.0");
  EXPECT_EQ(flock_api_version(hosts, "1.41"), "1.40");
  EXPECT_EQ(compare_api_versions("1.9", "1.41"), -1);
  EXPECT_EQ(compare_api_versions("1.41", "1.41"), 0);
}

TEST(Merge, WarningsAreAddedWhereTheAnswerHasThem) {
  auto volumes = with_warnings(R"({"Volumes":[{"Name":"v"}],"Warnings":null})", {"host e2 left out"});
  ASSERT_TRUE(volumes);
  EXPECT_EQ(*volumes, R"({"Volumes":[{"Name":"v"}],"Warnings":["host e2 left out"]})");
  auto more = with_warnings(R"({"Warnings":["w1"],"X":1})", {"w2"});
  ASSERT_TRUE(more);
  EXPECT_EQ(*more, R"({"Warnings":["w1","w2"],"X":1})");
  EXPECT_FALSE(with_warnings("[]", {"w"}));            // a list has no Warnings
  EXPECT_FALSE(with_warnings(R"({"Id":"x"})", {"w"}));  // nor has every object
}
