// The differential test of merged reads: `docker ps` (and the counts of `docker info`)
// answered from the object model must equal what a live fan-out of the same request gives
// (Cache-Control: no-cache asks for one). Random sequences of create, start, stop, kill,
// pause, unpause, rename and rm, made through the proxy and directly on the engines, with
// engines crashing and coming back:
// - after a change through the proxy, the very next read from memory already shows it
//   (read-your-writes: no waiting for events);
// - after a change made directly on an engine, memory shows it once its event is in (polled
//   here; how soon is measured in bench/, not asserted);
// - an engine that comes back is listed again before it is answered from memory.
// The durations in "Status" ("Up 3 seconds") are compared as words: the two reads happen a
// moment apart. How they are rendered is unit-tested (ContainerStatus.*).
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <random>
#include <regex>

#include "flock_harness.h"

using namespace flocker;
using namespace flocker::test;

namespace {

// A list with the durations in Status made words: "Up 3 seconds" and "Up 4 seconds" compare equal.
std::string without_durations(const std::string& body) {
  static const std::regex duration(
      R"((Less than a second|About a minute|About an hour|\d+ (second|minute|hour|day|week|month|year)s?))");
  return std::regex_replace(body, duration, "<d>");
}

// A list of images, volumes or networks in a stable order: engines list them in the order of
// their own maps, which memory need not follow.
std::string sorted_list(const std::string& body) {
  simdjson::dom::parser p;
  simdjson::dom::element root;
  if (p.parse(body).get(root)) return body;
  simdjson::dom::array items;
  std::vector<std::string> out;
  if (root.is_object() && !root["Volumes"].get_array().get(items)) {
  } else if (root.get_array().get(items)) {
    return body;
  }
  for (auto item : items) out.push_back(simdjson::minify(item));
  std::sort(out.begin(), out.end());
  std::string joined;
  for (const auto& o : out) joined += o + "\n";
  return joined;
}

struct Tracked {
  FakeDocker* engine;
  std::string id, name;
};

class Differential {
 public:
  explicit Differential(FlockHarness& f, uint32_t seed) : f_(f), rng_(seed) {}

  // One random query of the kinds a client sends.
  std::string random_query() {
    std::vector<std::string> queries = {
        "/v1.41/containers/json?all=1",
        "/v1.41/containers/json",
        "/v1.41/containers/json?all=1&limit=3",
        "/v1.41/containers/json?limit=1",
        "/v1.41/containers/json?filters=" + url(R"({"status":["running"]})"),
        "/v1.41/containers/json?filters=" + url(R"({"status":["exited","paused"]})"),
        "/v1.41/containers/json?all=1&filters=" + url(R"({"label":["tier=a"]})"),
        "/v1.41/containers/json?all=1&filters=" + url(R"({"label":["tier"]})"),
        "/v1.41/containers/json?all=1&filters=" + url(R"({"network":["bridge"]})"),
        "/v1.41/containers/json?all=1&filters=" + url(R"({"name":["d1"]})"),
        "/v1.41/containers/json?all=1&filters=" + url(R"({"name":["^/d2"],"status":["created"]})"),
    };
    if (!tracked_.empty()) {
      const auto& t = pick_tracked();
      queries.push_back("/v1.41/containers/json?all=1&filters=" + url("{\"id\":[\"" + t.id.substr(0, 12) + "\"]}"));
      queries.push_back("/v1.41/containers/json?filters=" + url("{\"name\":[\"" + t.name + "\"]}"));
    }
    return queries[rng_() % queries.size()];
  }

  // Memory and a live fan-out agree for `target` (durations as words); the two bodies when not.
  std::optional<std::pair<std::string, std::string>> differs(const std::string& target) {
    auto memory = f_.request("GET", target);
    auto live = f_.request("GET", target, "", "Cache-Control: no-cache\r\n");
    EXPECT_EQ(memory.result_int(), 200) << target << ": " << memory.body();
    EXPECT_EQ(live.result_int(), 200) << target << ": " << live.body();
    ++reads_;
    if (without_durations(memory.body()) == without_durations(live.body())) return std::nullopt;
    return std::make_pair(memory.body(), live.body());
  }

  // The image, volume and network lists: memory and live agree (as sets).
  std::optional<std::string> lists_differ() {
    for (const char* target : {"/v1.41/images/json", "/v1.41/volumes", "/v1.41/networks"}) {
      auto memory = f_.request("GET", target);
      auto live = f_.request("GET", target, "", "Cache-Control: no-cache\r\n");
      ++reads_;
      if (sorted_list(memory.body()) != sorted_list(live.body())) {
        return std::string(target) + "\nmemory: " + memory.body() + "\nlive:   " + live.body();
      }
    }
    return std::nullopt;
  }

  // A random change, through the proxy or on an engine; true when through the proxy.
  bool random_change() {
    const bool through_proxy = rng_() % 2 == 0;
    FakeDocker* engine = engines()[rng_() % 3];
    if (rng_() % 10 == 0) {  // a volume or a network made or removed
      const bool volume = rng_() % 2 == 0;
      const std::string name = (volume ? "v" : "n") + std::to_string(rng_() % 4);
      last = std::string(through_proxy ? "proxy" : engine->name()) + (volume ? " volume " : " network ") + name;
      if (rng_() % 2 == 0) {
        call(through_proxy, engine, "POST", volume ? "/v1.41/volumes/create" : "/v1.41/networks/create",
             "{\"Name\":\"" + name + "\"}");
      } else {
        call(through_proxy, engine, "DELETE", (volume ? "/v1.41/volumes/" : "/v1.41/networks/") + name, "");
      }
      return through_proxy;
    }
    const int kind = tracked_.empty() ? 0 : static_cast<int>(rng_() % 9);
    if (kind == 0) {  // create (and sometimes start it)
      const std::string name = "d" + std::to_string(next_name_++);
      const std::string body = std::string(R"({"Image":"img","Labels":{"tier":")") + (rng_() % 2 ? "a" : "b") + "\"}}";
      last = std::string(through_proxy ? "proxy" : engine->name()) + " create " + name;
      auto res = call(through_proxy, engine, "POST", "/v1.41/containers/create?name=" + name, body);
      if (res.result_int() != 201) {
        ADD_FAILURE() << "create " << name << ": " << res.result_int() << " " << res.body();
        return through_proxy;
      }
      simdjson::dom::parser p;
      std::string id(std::string_view(p.parse(res.body())["Id"].get_string()));
      FakeDocker* where = through_proxy ? owner(id) : engine;
      if (!where) {
        ADD_FAILURE() << "no engine has " << id;
        return through_proxy;
      }
      tracked_.push_back({where, id, name});
      if (rng_() % 2) call(through_proxy, where, "POST", "/v1.41/containers/" + id + "/start", "");
      return through_proxy;
    }
    const std::size_t at = rng_() % tracked_.size();
    Tracked t = tracked_[at];
    static const char* kActions[] = {"start", "stop", "kill", "pause", "unpause", "restart", "rename", "rm"};
    const std::string action = kActions[(kind - 1) % 8];
    last = std::string(through_proxy ? "proxy" : t.engine->name()) + " " + action + " " + t.name;
    if (action == "rename") {
      const std::string name = "d" + std::to_string(next_name_++);
      auto res = call(through_proxy, t.engine, "POST", "/v1.41/containers/" + t.id + "/rename?name=" + name, "");
      if (res.result_int() == 204) tracked_[at].name = name;
    } else if (action == "rm") {
      auto res = call(through_proxy, t.engine, "DELETE", "/v1.41/containers/" + t.id + "?force=1", "");
      if (res.result_int() == 204) tracked_.erase(tracked_.begin() + static_cast<std::ptrdiff_t>(at));
    } else {
      call(through_proxy, t.engine, "POST", "/v1.41/containers/" + t.id + "/" + action, "");
    }
    return through_proxy;
  }

  std::size_t reads() const { return reads_; }
  std::string last;  // the last change, for a failure's message
  std::size_t tracked() const { return tracked_.size(); }

 private:
  std::vector<FakeDocker*> engines() { return {&f_.e1, &f_.e2, &f_.e3}; }

  const Tracked& pick_tracked() { return tracked_[rng_() % tracked_.size()]; }

  FakeDocker* owner(const std::string& id) {
    for (auto* e : engines()) {
      if (e->has_container(id)) return e;
    }
    return nullptr;
  }

  http::response<http::string_body> call(bool through_proxy, FakeDocker* engine, const std::string& method,
                                         const std::string& target, const std::string& body) {
    if (through_proxy) return f_.request(method, target, body);
    RawClient c(engine->address());
    c.send(request_text(method, target, body.empty() ? "" : "Content-Type: application/json\r\n", body));
    return c.read_response();
  }

  static std::string url(const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
      if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
        out += static_cast<char>(ch);
      } else {
        out += fmt::format("%{:02X}", ch);
      }
    }
    return out;
  }

  FlockHarness& f_;
  std::mt19937 rng_;
  std::vector<Tracked> tracked_;
  int next_name_ = 1;
  std::size_t reads_ = 0;
};

// Until memory agrees with the engines for `target` (a change on an engine is in once its
// event is), or the time is up.
bool agrees_eventually(Differential& d, const std::string& target, std::string& why) {
  std::optional<std::pair<std::string, std::string>> last;
  const bool ok = FlockHarness::eventually([&] { return !(last = d.differs(target)); }, std::chrono::seconds(5));
  if (!ok && last) why = "memory: " + last->first + "\nlive:   " + last->second;
  return ok;
}

}  // namespace

TEST(MergedReads, MemoryAnswersAsTheEnginesDoThroughThousandsOfRandomChanges) {
  FlockHarness f;
  for (auto* e : {&f.e1, &f.e2, &f.e3}) e->add_image("img:latest");
  ASSERT_TRUE(FlockHarness::eventually(
      [&] { return f.knows_image("e1", "img") && f.knows_image("e2", "img") && f.knows_image("e3", "img"); }));
  const uint32_t seed = std::getenv("FLOCKER_DIFF_SEED") ? uint32_t(std::stoul(std::getenv("FLOCKER_DIFF_SEED"))) : 20261130;
  std::cout << "seed " << seed << " (FLOCKER_DIFF_SEED)\n";
  Differential d(f, seed);
  constexpr int kSteps = 1500;
  int through_proxy = 0, on_engines = 0;
  for (int step = 0; step < kSteps; ++step) {
    if (step % 500 == 250) {  // an engine crashes: it leaves both answers, and is listed again when back
      FakeDocker& down = step % 1000 == 250 ? f.e2 : f.e3;
      down.stop();
      ASSERT_TRUE(f.wait_healthy(2)) << "step " << step;
      std::string why;
      ASSERT_TRUE(agrees_eventually(d, "/v1.41/containers/json?all=1", why)) << "step " << step << "\n" << why;
      std::optional<std::string> lists;
      ASSERT_TRUE(FlockHarness::eventually([&] { return !(lists = d.lists_differ()); })) << "step " << step << " " << *lists;
      down.start();
      ASSERT_TRUE(f.wait_healthy(3)) << "step " << step;
    }
    if (d.random_change()) {
      ++through_proxy;
      // Read-your-writes: no waiting. (Every earlier change on an engine was already seen:
      // each is waited for below.)
      const std::string target = d.random_query();
      auto lists = d.lists_differ();
      ASSERT_FALSE(lists) << "step " << step << " after " << d.last << ": " << *lists;
      auto diff = d.differs(target);
      ASSERT_FALSE(diff) << "step " << step << " after " << d.last << ": " << target << "\nmemory: " << diff->first << "\nlive:   " << diff->second;
    } else {
      ++on_engines;
      // The whole list first, so that no change is still on its way when the next step
      // checks read-your-writes; then the query.
      std::string why;
      ASSERT_TRUE(agrees_eventually(d, "/v1.41/containers/json?all=1", why)) << "step " << step << "\n" << why;
      std::optional<std::string> lists;
      ASSERT_TRUE(FlockHarness::eventually([&] { return !(lists = d.lists_differ()); })) << "step " << step << " " << *lists;
      const std::string target = d.random_query();
      ASSERT_TRUE(agrees_eventually(d, target, why)) << "step " << step << " " << target << "\n" << why;
    }
  }
  // Every query once more at the end, and info's counts.
  for (int i = 0; i < 20; ++i) {
    std::string why;
    const std::string target = d.random_query();
    EXPECT_TRUE(agrees_eventually(d, target, why)) << target << "\n" << why;
  }
  simdjson::dom::parser p1, p2;
  auto memory = f.request("GET", "/v1.41/info");
  auto live = f.request("GET", "/v1.41/info", "", "Cache-Control: no-cache\r\n");
  for (const char* key : {"Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped", "Images"}) {
    EXPECT_EQ(int64_t(p1.parse(memory.body())[key]), int64_t(p2.parse(live.body())[key])) << key;
  }
  EXPECT_NE(memory.body().find("\"  └ Model\",\"live\""), std::string::npos) << memory.body();
  std::cout << "differential: " << kSteps << " steps (" << through_proxy << " through the proxy, " << on_engines
            << " on engines), " << d.reads() << " reads compared, " << d.tracked() << " containers left\n";
}

// While a host is being listed again its part of a read comes from the engine itself.
TEST(MergedReads, AHostNotListedYetIsReadLive) {
  FlockHarness f;
  f.e1.add_image("img:latest");
  const std::string id = f.e1.add_container("early", "img", 7);
  ASSERT_TRUE(FlockHarness::eventually([&] { return f.the_flock->model.sizes().containers == 1; }));
  f.the_flock->model.mark_unsynced("e1");
  f.e1.set_state_events(false);
  // A change the model cannot have seen (no event): the read still shows it, from e1.
  RawClient c(f.e1.address());
  c.send(request_text("POST", "/v1.41/containers/" + id + "/stop", "", ""));
  ASSERT_EQ(c.read_response().result_int(), 204);
  auto res = f.request("GET", "/v1.41/containers/json?all=1");
  EXPECT_NE(res.body().find("\"State\":\"exited\""), std::string::npos) << res.body();
  auto info = f.request("GET", "/v1.41/info");
  EXPECT_NE(info.body().find("\"  └ Model\",\"resyncing\""), std::string::npos) << info.body();
}
