// `docker ps` from memory: the query as dockerd reads it (what it refuses is left to the
// engines), its selection over one host's containers in dockerd's order of checks
// (daemon/list.go), and a list entry rendered at read time.
#include <gtest/gtest.h>

#include "docker/ps_query.h"

using namespace flocker::docker;

namespace {

ListedContainer container(std::string id, std::string name, std::string state, int64_t created) {
  ListedContainer c;
  c.id = std::move(id);
  c.name = "/" + name;
  c.names = {c.name};
  c.state_word = std::move(state);
  c.state.running = c.state_word == "running" || c.state_word == "paused";
  c.state.paused = c.state_word == "paused";
  if (c.state_word != "created") c.state.started_at = Clock::now();
  c.created = created;
  c.created_ns = created * 1'000'000'000;
  return c;
}

std::vector<std::string> names(const std::vector<const ListedContainer*>& list) {
  std::vector<std::string> out;
  for (const auto* c : list) out.push_back(c->name);
  return out;
}

}  // namespace

TEST(PsQuery, WhatTheEngineWouldRefuseIsLeftToIt) {
  EXPECT_TRUE(parse_ps_query("all=1&limit=3"));
  EXPECT_FALSE(parse_ps_query("size=1")) << "sizes are not in memory";
  EXPECT_TRUE(parse_ps_query("size=0"));
  EXPECT_FALSE(parse_ps_query("limit=x"));
  EXPECT_FALSE(parse_ps_query("filters=%7B%22nope%22%3A%5B%22x%22%5D%7D")) << "an unknown filter";
  EXPECT_FALSE(parse_ps_query("filters=%7B%22status%22%3A%5B%22sleeping%22%5D%7D"));
  EXPECT_FALSE(parse_ps_query("filters=%7B%22health%22%3A%5B%22fine%22%5D%7D"));
  EXPECT_FALSE(parse_ps_query("filters=%7B%22exited%22%3A%5B%22x%22%5D%7D"));
  EXPECT_FALSE(parse_ps_query("filters=%7B%22is-task%22%3A%5B%22maybe%22%5D%7D"));
  EXPECT_FALSE(parse_ps_query("filters=%7B%22publish%22%3A%5B%2280%3A80%22%5D%7D")) << "no ':' in a port";
  EXPECT_FALSE(parse_ps_query("filters=notjson"));
  auto q = parse_ps_query("filters=%7B%22status%22%3A%5B%22exited%22%5D%2C%22since%22%3A%5B%22a%22%2C%22b%22%5D%7D");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->all) << "a status filter lists stopped containers";
  EXPECT_EQ(q->since, "b") << "the last value, as the engine takes it";
  EXPECT_FALSE(q->has("since"));
  auto all = parse_ps_query("all=True");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->all) << "httputils.BoolValue";
}

TEST(PsQuery, FiltersSelectAsDockerdDoes) {
  auto web = container("aa11", "web", "running", 5);
  auto db = container("aa22", "db", "exited", 4);
  auto cache = container("bb33", "cache", "paused", 3);
  auto fresh = container("cc44", "fresh", "created", 2);
  web.labels = {{"tier", "front"}, {"env", "prod"}};
  db.labels = {{"tier", "back"}};
  db.state.exit_code = 137;
  db.state.finished_at = Clock::now();
  web.mounts = {{"data", "/var/lib/docker/volumes/data/_data", "/data"}};
  db.mounts = {{"", "/srv", "/srv"}};
  web.networks = {{"bridge", "f00d"}};
  db.networks = {{"appnet", "beef"}};
  web.ports = {{8080, 80, "tcp", "0.0.0.0"}};
  cache.ports = {{0, 6379, "tcp", ""}};
  web.health = "healthy";
  const std::vector<const ListedContainer*> host{&web, &db, &cache, &fresh};
  auto select = [&](const std::string& query, PsHostContext ctx = {}) {
    auto q = parse_ps_query(query);
    EXPECT_TRUE(q) << query;
    return names(ps_select(*q, host, ctx));
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(select(""), (V{"/web", "/cache"})) << "running and paused, without all";
  EXPECT_EQ(select("all=1"), (V{"/web", "/db", "/cache", "/fresh"}));
  EXPECT_EQ(select("limit=2"), (V{"/web", "/db", "/cache", "/fresh"})) << "a limit lists stopped ones too (merge cuts)";
  EXPECT_EQ(select("filters=%7B%22status%22%3A%5B%22exited%22%2C%22created%22%5D%7D"), (V{"/db", "/fresh"}));
  EXPECT_EQ(select("all=1&filters=%7B%22name%22%3A%5B%22e%22%5D%7D"), (V{"/web", "/cache", "/fresh"}))
      << "a name is an expression found anywhere in it";
  EXPECT_EQ(select("all=1&filters=%7B%22name%22%3A%5B%22%5E%2Fd%22%5D%7D"), (V{"/db"}));
  EXPECT_EQ(select("all=1&filters=%7B%22label%22%3A%5B%22tier%22%5D%7D"), (V{"/web", "/db"}));
  EXPECT_EQ(select("all=1&filters=%7B%22label%22%3A%5B%22tier%3Dfront%22%2C%22env%22%5D%7D"), (V{"/web"}));
  EXPECT_EQ(select("all=1&filters=%7B%22exited%22%3A%5B%22137%22%5D%7D"), (V{"/db"}));
  EXPECT_EQ(select("all=1&filters=%7B%22volume%22%3A%5B%22data%22%5D%7D"), (V{"/web"})) << "by name";
  EXPECT_EQ(select("all=1&filters=%7B%22volume%22%3A%5B%22%2Fsrv%22%5D%7D"), (V{"/db"})) << "by source or destination";
  EXPECT_EQ(select("all=1&filters=%7B%22network%22%3A%5B%22be%22%5D%7D"), (V{"/db"})) << "an ID prefix";
  EXPECT_EQ(select("all=1&filters=%7B%22network%22%3A%5B%22bridge%22%5D%7D"), (V{"/web"}));
  EXPECT_EQ(select("all=1&filters=%7B%22publish%22%3A%5B%228000-8100%22%5D%7D"), (V{"/web"}));
  EXPECT_EQ(select("all=1&filters=%7B%22expose%22%3A%5B%226379%2Ftcp%22%5D%7D"), (V{"/cache"}));
  EXPECT_EQ(select("all=1&filters=%7B%22health%22%3A%5B%22healthy%22%5D%7D"), (V{"/web"}));
  EXPECT_EQ(select("all=1&filters=%7B%22health%22%3A%5B%22none%22%5D%7D"), (V{"/db", "/cache", "/fresh"}));
  EXPECT_EQ(select("all=1&filters=%7B%22is-task%22%3A%5B%22true%22%5D%7D"), V{}) << "no swarm tasks in a flock";
  EXPECT_EQ(select("all=1&filters=%7B%22isolation%22%3A%5B%22default%22%5D%7D").size(), 4u);
  PsHostContext ids;
  ids.id_matches = {"aa22"};
  EXPECT_EQ(select("all=1&filters=%7B%22id%22%3A%5B%22aa2%22%5D%7D", ids), (V{"/db"}));
  PsHostContext ancestors;
  ancestors.ancestor_ids = {"sha256:1"};
  db.image_id = "sha256:1";
  EXPECT_EQ(select("all=1&filters=%7B%22ancestor%22%3A%5B%22img%22%5D%7D", ancestors), (V{"/db"}));
}

TEST(PsQuery, SinceAndBeforeByPositionOnTheirHostByTimeElsewhere) {
  auto a = container("a1", "a", "running", 5);
  auto b = container("b1", "b", "running", 4);
  auto c = container("c1", "c", "running", 3);
  auto d = container("d1", "d", "running", 2);
  const std::vector<const ListedContainer*> host{&a, &b, &c, &d};
  auto q = parse_ps_query("all=1");
  using V = std::vector<std::string>;
  PsHostContext since;
  since.since_id = "c1";
  EXPECT_EQ(names(ps_select(*q, host, since)), (V{"/a", "/b"}));
  PsHostContext before;
  before.before_id = "b1";
  EXPECT_EQ(names(ps_select(*q, host, before)), (V{"/c", "/d"}));
  PsHostContext window;
  window.created_after_ns = 2'000'000'000;
  window.created_before_ns = 5'000'000'000;
  EXPECT_EQ(names(ps_select(*q, host, window)), (V{"/b", "/c"})) << "strictly inside";
  // Containers of the same second on other hosts are told apart by their exact times, as
  // one engine orders them.
  auto e = container("e1", "e", "running", 3);
  e.created_ns = 3'000'000'500;
  c.created_ns = 3'000'000'100;
  const std::vector<const ListedContainer*> same_second{&e, &c};
  PsHostContext after_c;
  after_c.created_after_ns = 3'000'000'200;
  EXPECT_EQ(names(ps_select(*q, same_second, after_c)), (V{"/e"}));
  PsHostContext before_e;
  before_e.created_before_ns = 3'000'000'200;
  EXPECT_EQ(names(ps_select(*q, same_second, before_e)), (V{"/c"}));
}

TEST(PsQuery, AListCaughtInARenameIsReadAgain) {
  // For a moment after a rename dockerd lists the old name beside the new one; a link alias
  // ("/web/db") is no such second name.
  simdjson::dom::parser p1, p2, p3;
  auto renaming = p1.parse(std::string_view(R"({"Id":"abc","Names":["/old","/new"],"Image":"b","State":"created","Status":"Created"})"));
  auto linked = p3.parse(std::string_view(R"({"Id":"abc","Names":["/new","/web/new"],"Image":"b","State":"created","Status":"Created"})"));
  auto inspect = p2.parse(std::string_view(R"({"Id":"abc","Name":"/new","State":{},"Config":{"Image":"b"}})"));
  auto c = listed_container(renaming.value(), inspect.value(), "e1");
  ASSERT_TRUE(c);
  EXPECT_FALSE(list_agrees_with_inspect(*c, renaming.value(), inspect.value()));
  auto l = listed_container(linked.value(), inspect.value(), "e1");
  ASSERT_TRUE(l);
  EXPECT_TRUE(list_agrees_with_inspect(*l, linked.value(), inspect.value()));
}

TEST(PsQuery, AnEntryIsRenderedAtReadTime) {
  simdjson::dom::parser p1, p2;
  auto entry = p1.parse(std::string_view(
      R"({"Id":"abc","Names":["/web"],"Image":"busybox","ImageID":"sha256:1","Created":1,"Labels":{"a":"b"},"State":"exited","Status":"Exited (3) 1 second ago"})"));
  auto inspect = p2.parse(std::string_view(
      R"({"Id":"abc","Name":"/web","Created":"2026-11-30T10:00:00.5Z","State":{"Running":false,"ExitCode":3,"StartedAt":"2026-11-30T10:00:01Z","FinishedAt":"2026-11-30T10:00:02Z"},"Config":{"Image":"busybox"}})"));
  auto c = listed_container(entry.value(), inspect.value(), "e1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->created_ns % 1'000'000'000, 500'000'000);
  EXPECT_TRUE(list_agrees_with_inspect(*c, entry.value(), inspect.value()));
  std::string out;
  const auto finished = *parse_docker_time("2026-11-30T10:00:02Z");
  append_listed(out, *c, "sha256:1", finished + std::chrono::hours(3));
  EXPECT_EQ(out,
            R"({"Id":"abc","Names":["/web"],"Image":"sha256:1","ImageID":"sha256:1","Created":1,"Labels":{"a":"b","com.docker.flocker.host":"e1"},"State":"exited","Status":"Exited (3) 3 hours ago"})");
}
