#include "fake_docker.h"

#include "fake_engine.h"

#include "docker/container_status.h"
#include "docker/ps_query.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <regex>
#include <sstream>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace flocker::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::ip::tcp::socket;
using error_code = boost::system::error_code;

namespace {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string hex_id(const std::string& seed) {
  std::string out;
  uint64_t h = std::hash<std::string>{}(seed);
  for (int i = 0; i < 4; ++i) {
    out += fmt::format("{:016x}", h);
    h = h * 6364136223846793005ull + 1442695040888963407ull;
  }
  return out;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A time as dockerd writes it (RFC 3339, nanoseconds); Go's zero time for 0.
std::string docker_time(int64_t ns) {
  if (ns == 0) return "0001-01-01T00:00:00Z";
  using namespace std::chrono;
  const sys_seconds secs{seconds(ns / 1'000'000'000)};
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", int(ymd.year()), unsigned(ymd.month()),
                     unsigned(ymd.day()), hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     ns % 1'000'000'000);
}

std::string query_value(std::string_view target, std::string_view key) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    if (item.substr(0, key.size() + 1) == std::string(key) + "=") {
      std::string v(item.substr(key.size() + 1));
      std::string decoded;
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size()) {
          decoded += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          decoded += v[i];
        }
      }
      return decoded;
    }
  }
  return "";
}

}  // namespace

struct FakeDocker::Impl {
  struct Container {
    std::string id, name, image;
    int64_t created;
    bool running = true;
    std::string body;  // the create body
    std::vector<int> published;  // host ports it publishes while running
    bool paused = false;
    int64_t exit_code = 0;
    int64_t started_ns = 0, finished_ns = 0;  // 0: never
    int64_t created_ns = 0;                   // the engine's order within a second
    std::string image_id = {};

    docker::ContainerState state() const {
      docker::ContainerState st;
      st.running = running;
      st.paused = paused;
      st.exit_code = exit_code;
      if (started_ns) st.started_at = docker::Clock::time_point(std::chrono::duration_cast<docker::Clock::duration>(std::chrono::nanoseconds(started_ns)));
      if (finished_ns) st.finished_at = docker::Clock::time_point(std::chrono::duration_cast<docker::Clock::duration>(std::chrono::nanoseconds(finished_ns)));
      return st;
    }
  };
  struct Network {
    std::string id, name, driver;
    std::string scope = "local";  // "swarm", "global": a copy of a shared network
    std::string subnet = {};
  };
  std::mutex mu;
  std::condition_variable events_cv;
  std::vector<Container> containers;
  std::map<std::string, std::string> images;  // ref -> id ("sha256:..." as the ref: untagged)
  std::map<std::string, uint64_t> archive_sizes;  // image id -> `docker save` payload bytes
  struct ImageMeta {
    int64_t created = 5;    // seconds, as the list has it
    int64_t last_tag = 0;   // Metadata.LastTagTime (ns; 0: never tagged here, as after a pull)
  };
  std::map<std::string, ImageMeta> image_meta;  // by image id
  int64_t builds = 0;
  std::map<std::string, std::string> volumes;  // name -> driver
  std::vector<Network> networks;
  std::map<std::string, std::string> execs;   // exec id -> container id
  std::vector<RecordedRequest> recorded;
  std::vector<Archive> loads;
  std::vector<std::string> daemon_labels;  // dockerd --label
  std::deque<std::string> events;             // every event so far
  std::shared_ptr<SharedNetworks> shared;     // its swarm or cluster store, if any
  bool manager = false;

  // The shared networks it sees, brought in line with the swarm or store (caller holds mu).
  void sync_shared();
  // A shared network a container may join here, by name or ID (caller holds mu).
  bool joinable(const std::string& ref);
  // A network's list entry, or (`inspect`) its inspect with the containers here that use it
  // (and, on a swarm node, its load balancer's endpoint, as dockerd lists it).
  std::string network_json(const Network& n, bool inspect);
  // /info's Swarm block and ClusterStore, as dockerd gives them.
  std::string multihost_info(const std::string& engine);
  // A container's uses of shared networks, counted there (`add` false: removed).
  void count_shared_users(const Container& c, bool add);
  int event_streams = 0;
  bool frozen = false;
  std::condition_variable thawed;
  std::map<std::string, Fault> faults;  // path prefix -> fault
  bool state_events = true;  // events for start, stop, kill, pause, unpause, rename
  int64_t creates = 0;       // tells apart containers created in the same second

  asio::io_context ctx;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor;
  std::thread accept_thread;
  std::vector<std::shared_ptr<Socket>> sockets;
  std::vector<std::thread> threads;
  std::atomic<bool> running{false};
  std::atomic<uint64_t> generation{0};

  Container* find(const std::string& ref) {
    std::string r = ref.starts_with("/") ? ref.substr(1) : ref;
    for (auto& c : containers) {
      if (c.id == r || c.name == r) return &c;
    }
    Container* found = nullptr;
    for (auto& c : containers) {
      if (c.id.starts_with(r)) {
        if (found) return nullptr;
        found = &c;
      }
    }
    return found;
  }

  void push_event(std::string json) {
    events.push_back(std::move(json));
    events_cv.notify_all();
  }

  void event(std::string_view type, std::string_view action, std::string_view id, std::string attrs = "") {
    push_event(fmt::format(R"({{"Type":"{}","Action":"{}","Actor":{{"ID":"{}","Attributes":{{{}}}}},"time":1}})",
                           type, action, id, attrs));
  }

  // The networks a container is on: its NetworkMode (bridge by default) and its endpoints.
  std::vector<std::string> networks_of(const Container& c) {
    std::vector<std::string> out;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::string mode = "bridge";
    if (!c.body.empty() && !parser.parse(c.body).get(root)) {
      std::string_view nm;
      if (!root["HostConfig"]["NetworkMode"].get_string().get(nm) && !nm.empty() && nm != "default") mode = std::string(nm);
      simdjson::dom::object endpoints;
      if (!root["NetworkingConfig"]["EndpointsConfig"].get_object().get(endpoints)) {
        for (auto e : endpoints) {
          if (e.key != mode) out.emplace_back(e.key);
        }
      }
    }
    if (!mode.starts_with("container:")) out.insert(out.begin(), mode);
    return out;
  }

  std::string labels_of(const Container& c, const std::string& engine) {
    std::string out = "{\"from\":" + quote(engine);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::dom::object labels;
    if (!c.body.empty() && !parser.parse(c.body).get(root) && !root["Labels"].get_object().get(labels)) {
      for (auto l : labels) {
        std::string_view v;
        if (!l.value.get_string().get(v) && l.key != "from") out += "," + quote(l.key) + ":" + quote(v);
      }
    }
    return out + "}";
  }

  // Its entry in GET /containers/json, in dockerd's field order.
  std::string list_entry(const Container& c, const std::string& engine, docker::Clock::time_point now) {
    std::string ports;
    for (auto port : c.published) {
      if (!c.running) break;
      ports += fmt::format(R"({}{{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":{},"Type":"tcp"}})",
                           ports.empty() ? "" : ",", port);
    }
    std::string nets;
    for (const auto& n : networks_of(c)) {
      Network* net = network(n);
      nets += fmt::format(R"({}{}:{{"NetworkID":"{}","IPAddress":""}})", nets.empty() ? "" : ",", quote(n),
                          net ? net->id : "");
    }
    const auto st = c.state();
    std::string names;
    for (const auto& n : names_of(c)) names += (names.empty() ? "" : ",") + quote(n);
    return fmt::format(
        R"({{"Id":"{}","Names":[{}],"Image":{},"ImageID":{},"Command":"sh","Created":{},"Ports":[{}],"Labels":{},"State":"{}","Status":{},"HostConfig":{{"NetworkMode":"default"}},"NetworkSettings":{{"Networks":{{{}}}}},"Mounts":[]}})",
        c.id, names, quote(c.image), quote(c.image_id), c.created, ports, labels_of(c, engine), docker::state_word(st),
        quote(docker::status_text(st, now)), nets);
  }

  std::string inspect(const Container& c) {
    std::string links;  // dockerd's form: "/db:/web/alias"
    for (const auto& [target, alias] : links_of(c)) {
      links += (links.empty() ? "" : ",") + quote("/" + target + ":/" + c.name + "/" + alias);
    }
    return fmt::format(
        R"({{"Id":"{}","Created":"{}","Path":"sh","Args":[],"State":{{"Status":"{}","Running":{},"Paused":{},"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":{},"ExitCode":{},"Error":"","StartedAt":"{}","FinishedAt":"{}"}},"Image":{},"Name":"/{}","Config":{{"Image":{}}},"HostConfig":{{"Isolation":"","Links":[{}]}}}})",
        c.id, docker_time(c.created_ns), docker::state_word(c.state()), c.running ? "true" : "false",
        c.paused ? "true" : "false", c.running ? 4242 : 0, c.exit_code, docker_time(c.started_ns),
        docker_time(c.finished_ns), quote(c.image_id), c.name, quote(c.image), links);
  }

  // HostConfig.Links of its create body ("db" or "db:alias"): the container linked to (by
  // its name now), and the alias.
  std::vector<std::pair<std::string, std::string>> links_of(const Container& c) {
    std::vector<std::pair<std::string, std::string>> out;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::dom::array links;
    if (c.body.empty() || parser.parse(c.body).get(root) || root["HostConfig"]["Links"].get_array().get(links)) return out;
    for (auto l : links) {
      std::string_view v;
      if (l.get_string().get(v)) continue;
      std::string target(v.substr(0, v.find(':'))), alias(v.find(':') == std::string_view::npos ? v : v.substr(v.find(':') + 1));
      if (target.starts_with('/')) target.erase(0, 1);
      if (const Container* t = find(target)) out.emplace_back(t->name, alias);
    }
    return out;
  }

  // Its Names as dockerd lists them: its own, and "/web/alias" for each container linking to
  // it, in name order.
  std::vector<std::string> names_of(const Container& c) {
    std::vector<std::string> out{"/" + c.name};
    for (const auto& x : containers) {
      for (const auto& [target, alias] : links_of(x)) {
        if (target == c.name) out.push_back("/" + x.name + "/" + alias);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // An image's tags ("sha256:..." keys are no tag).
  std::vector<std::string> tags_of(const std::string& id) {
    std::vector<std::string> out;
    for (const auto& [ref, i] : images) {
      if (i == id && !ref.starts_with("sha256:")) out.push_back(ref);
    }
    return out;
  }

  // `ref` names `id` from now on (a build, a tag, a commit), as dockerd tags: announced.
  void tag(const std::string& ref, const std::string& id) {
    images[ref] = id;
    image_meta[id].last_tag = now_ns();
    event("image", "tag", id, "\"name\":" + quote(ref));
  }

  void state_event(std::string_view action, const Container& c, std::string extra = "") {
    if (state_events) event("container", action, c.id, "\"name\":" + quote(c.name) + extra);
  }

  // A network by ID, name or ID prefix (docker's order).
  Network* network(const std::string& ref) {
    for (auto& n : networks) {
      if (n.id == ref || n.name == ref) return &n;
    }
    for (auto& n : networks) {
      if (!ref.empty() && n.id.starts_with(ref)) return &n;
    }
    return nullptr;
  }

  // An image by tag, ID or ID prefix (with or without "sha256:").
  std::string image_id(const std::string& ref) {
    if (images.count(ref)) return images[ref];
    if (images.count(ref + ":latest")) return images[ref + ":latest"];
    for (auto& [r, id] : images) {
      if (!ref.empty() && (id.starts_with(ref) || id.starts_with("sha256:" + ref))) return id;
    }
    return "";
  }

  void add_volume(const std::string& name, const std::string& driver) {
    if (volumes.count(name)) return;
    volumes[name] = driver;
    event("volume", "create", name, "\"driver\":" + quote(driver));
  }

  // What a create refers to, checked as dockerd checks it; the error message, or "".
  std::string check_refs(const std::string& body) {
    simdjson::dom::parser parser;
    simdjson::dom::element root, hc;
    if (parser.parse(body).get(root) || root["HostConfig"].get(hc)) return "";
    auto strings = [&](const char* key) {
      std::vector<std::string> out;
      simdjson::dom::array a;
      if (!hc[key].get_array().get(a)) {
        for (auto item : a) {
          std::string_view v;
          if (!item.get_string().get(v)) out.emplace_back(v);
        }
      }
      return out;
    };
    for (const auto& from : strings("VolumesFrom")) {
      std::string c = from.substr(0, from.find(':'));
      if (!find(c)) return "No such container: " + c;
    }
    for (const auto& link : strings("Links")) {
      std::string c = link.substr(0, link.find(':'));
      if (!find(c)) return "could not get container for " + c;
    }
    for (const char* key : {"NetworkMode", "PidMode", "IpcMode"}) {
      std::string_view mode;
      if (hc[key].get_string().get(mode)) continue;
      if (mode.starts_with("container:")) {
        if (!find(std::string(mode.substr(10)))) return "No such container: " + std::string(mode.substr(10));
      } else if (std::string(key) == "NetworkMode" && !mode.empty() && mode != "default" && !joinable(std::string(mode))) {
        return "network " + std::string(mode) + " not found";
      }
    }
    simdjson::dom::object endpoints;
    if (!root["NetworkingConfig"]["EndpointsConfig"].get_object().get(endpoints)) {
      for (auto e : endpoints) {
        if (!joinable(std::string(e.key))) return "network " + std::string(e.key) + " not found";
      }
    }
    for (const auto& bind : strings("Binds")) {  // named volumes are made on first use
      auto colon = bind.find(':');
      if (colon != std::string::npos && colon > 0 && bind[0] != '/') add_volume(bind.substr(0, colon), "local");
    }
    return "";
  }
};

struct SharedNetworks {
  bool swarm = true;
  std::string store;            // the cluster store's address
  std::string manager_node_id;  // the swarm's first manager
  std::mutex mu;
  struct Net {
    std::string id, name, subnet;
    std::multiset<std::string> users;  // "engine/container" using it, on any engine
  };
  std::vector<Net> nets;
  Net* find(const std::string& ref) {
    for (auto& n : nets) {
      if (n.id == ref || n.name == ref) return &n;
    }
    for (auto& n : nets) {
      if (!ref.empty() && n.id.starts_with(ref)) return &n;
    }
    return nullptr;
  }
};

std::shared_ptr<SharedNetworks> make_swarm() { return std::make_shared<SharedNetworks>(); }

std::shared_ptr<SharedNetworks> make_cluster_store(const std::string& address) {
  auto s = std::make_shared<SharedNetworks>();
  s->swarm = false;
  s->store = address;
  return s;
}

void FakeDocker::Impl::sync_shared() {
  if (!shared) return;
  std::lock_guard slock(shared->mu);
  const std::string scope = shared->swarm ? "swarm" : "global";
  std::set<std::string> used;  // the shared networks its containers use, by name or ID
  for (const auto& c : containers) {
    for (const auto& n : networks_of(c)) used.insert(n);
  }
  // (dockerd announces the copies it makes and drops as network create and destroy.)
  std::erase_if(networks, [&](const Network& n) {
    if (n.scope == "local") return false;
    const auto* s = shared->find(n.id);
    const bool drop = !s || (shared->swarm && !manager && !used.count(s->name) && !used.count(s->id));
    if (drop) event("network", "destroy", n.id, "\"name\":" + quote(n.name) + ",\"type\":\"overlay\"");
    return drop;
  });
  for (const auto& s : shared->nets) {
    const bool visible = !shared->swarm || manager || used.count(s.name) || used.count(s.id);
    const bool here = std::any_of(networks.begin(), networks.end(), [&](const Network& n) { return n.id == s.id; });
    if (!visible || here) continue;
    networks.push_back({s.id, s.name, "overlay", scope, s.subnet});
    event("network", "create", s.id, "\"name\":" + quote(s.name) + ",\"type\":\"overlay\"");
  }
}

std::string FakeDocker::Impl::network_json(const Network& n, bool inspect) {
  std::string ipam = n.subnet.empty() ? "[]" : "[{\"Subnet\":" + quote(n.subnet) + "}]";
  std::string out = fmt::format(R"({{"Name":{},"Id":"{}","Scope":"{}","Driver":{},"Attachable":{},"IPAM":{{"Driver":"default","Options":null,"Config":{}}})",
                                quote(n.name), n.id, n.scope, quote(n.driver), n.scope == "local" ? "false" : "true", ipam);
  if (inspect) {
    std::string members;
    for (const auto& c : containers) {
      for (const auto& r : networks_of(c)) {
        if (r != n.name && r != n.id) continue;
        members += fmt::format(R"({}"{}":{{"Name":{},"EndpointID":"ep-{}"}})", members.empty() ? "" : ",", c.id,
                               quote(c.name), c.id.substr(0, 12));
        break;
      }
    }
    if (n.scope == "swarm") {
      members += fmt::format(R"({}"lb-{}":{{"Name":"{}-endpoint","EndpointID":"lb"}})", members.empty() ? "" : ",",
                             n.name, n.name);
    }
    out += R"(,"Containers":{)" + members + "}";
  }
  return out + "}";
}

std::string FakeDocker::Impl::multihost_info(const std::string& engine) {
  const std::string node = hex_id(engine + "/node").substr(0, 25);
  if (!shared) {
    return R"("ClusterStore":"","Swarm":{"NodeID":"","NodeAddr":"","LocalNodeState":"inactive","ControlAvailable":false,"Error":"","RemoteManagers":null})";
  }
  std::lock_guard slock(shared->mu);
  if (!shared->swarm) {
    return fmt::format(R"("ClusterStore":{},"ClusterAdvertise":"198.18.0.1:2376","Swarm":{{"NodeID":"","NodeAddr":"","LocalNodeState":"inactive","ControlAvailable":false,"Error":"","RemoteManagers":null}})",
                       quote(shared->store));
  }
  return fmt::format(R"("ClusterStore":"","Swarm":{{"NodeID":"{}","NodeAddr":"198.18.0.1","LocalNodeState":"active","ControlAvailable":{},"Error":"","RemoteManagers":[{{"NodeID":"{}","Addr":"198.18.0.1:2377"}}]{}}})",
                     node, manager ? "true" : "false", shared->manager_node_id,
                     manager ? R"(,"Cluster":{"ID":"fakeswarmclusterid000000"})" : "");
}

bool FakeDocker::Impl::joinable(const std::string& ref) {
  if (network(ref)) return true;
  if (!shared) return false;
  std::lock_guard slock(shared->mu);
  return shared->find(ref) != nullptr;
}

void FakeDocker::Impl::count_shared_users(const Container& c, bool add) {
  if (!shared) return;
  std::lock_guard slock(shared->mu);
  for (const auto& ref : networks_of(c)) {
    auto* n = shared->find(ref);
    if (!n) continue;
    if (add) {
      n->users.insert(c.id);
    } else if (auto it = n->users.find(c.id); it != n->users.end()) {
      n->users.erase(it);
    }
  }
}

namespace {

// Swarm mode's endpoints.
constexpr std::string_view kSwarmPaths[] = {"/swarm", "/nodes", "/services", "/tasks", "/secrets", "/configs"};

// `docker save` of a fake image: a header line, then `size` pattern bytes.
std::string archive_header(const std::string& id, const std::string& ref) {
  return "FAKEIMAGE " + id + " " + ref + "\n";
}

}  // namespace

FakeDocker::FakeDocker(std::string name, int port)
    : impl_(std::make_unique<Impl>()), name_(std::move(name)), port_(port) {
  for (const char* predefined : {"bridge", "host", "none"}) {  // every engine has its own
    impl_->networks.push_back({hex_id(name_ + "/net/" + predefined), predefined, predefined});
  }
  start();
}

FakeDocker::~FakeDocker() { stop(); }

void FakeDocker::start() {
  auto& im = *impl_;
  im.acceptor = std::make_unique<asio::ip::tcp::acceptor>(im.ctx);
  asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_));
  im.acceptor->open(ep.protocol());
  im.acceptor->set_option(asio::socket_base::reuse_address(true));
  im.acceptor->bind(ep);
  im.acceptor->listen();
  port_ = im.acceptor->local_endpoint().port();
  im.running = true;
  const uint64_t gen = ++im.generation;
  im.accept_thread = std::thread([this, gen] {
    auto& state = *impl_;
    for (;;) {
      auto socket = std::make_shared<Socket>(state.ctx);
      error_code ec;
      state.acceptor->accept(*socket, ec);
      if (ec || !state.running || state.generation != gen) return;
      std::lock_guard lock(state.mu);
      state.sockets.push_back(socket);
      state.threads.emplace_back([this, socket] {
        serve(*socket);
        ::shutdown(socket->native_handle(), SHUT_RDWR);  // the peer sees the end, as from a real engine
      });
    }
  });
}

void FakeDocker::freeze(bool on) {
  std::lock_guard lock(impl_->mu);
  impl_->frozen = on;
  impl_->thawed.notify_all();
  impl_->events_cv.notify_all();
}

void FakeDocker::set_fault(const std::string& path_prefix, Fault fault) {
  std::lock_guard lock(impl_->mu);
  if (fault == Fault::kNone) {
    impl_->faults.erase(path_prefix);
  } else {
    impl_->faults[path_prefix] = fault;
  }
}

void FakeDocker::serve_fault(boost::asio::ip::tcp::socket& s, Fault fault) {
  error_code ec;
  if (fault == Fault::kHalf) {
    static constexpr std::string_view kHalfAnswer =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Id\":\"half";
    asio::write(s, asio::buffer(kHalfAnswer), ec);
  } else if (fault == Fault::kReset) {
    static constexpr std::string_view kStreamStart =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        "6\r\nfirst\n\r\n";
    asio::write(s, asio::buffer(kStreamStart), ec);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ::linger hard{1, 0};  // close with a reset, not a FIN
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    s.close(ec);
    return;
  }
  // Nothing more: the connection is held until the peer or stop() closes it.
  char byte;
  while (!ec && impl_->running) s.read_some(asio::buffer(&byte, 1), ec);
}

void FakeDocker::stop() {
  auto& im = *impl_;
  if (!im.running.exchange(false)) return;
  ::shutdown(im.acceptor->native_handle(), SHUT_RDWR);
  error_code ec;
  im.acceptor->close(ec);
  if (im.accept_thread.joinable()) im.accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(im.mu);
    for (auto& s : im.sockets) ::shutdown(s->native_handle(), SHUT_RDWR);
    im.sockets.clear();
    threads = std::move(im.threads);
    im.events_cv.notify_all();
    im.thawed.notify_all();
  }
  for (auto& t : threads) t.join();
}

std::string FakeDocker::add_container(const std::string& name, const std::string& image,
                                      int64_t created, const std::string& id, bool announce, int64_t created_ns) {
  std::lock_guard lock(impl_->mu);
  Impl::Container c{id.empty() ? hex_id(name_ + "/" + name) : id, name, image, created, true, "", {}};
  c.started_ns = now_ns();
  c.created_ns = created_ns ? created_ns : created * 1'000'000'000 + (++impl_->creates % 1'000'000'000);
  c.image_id = impl_->image_id(image);
  impl_->containers.push_back(c);
  if (announce) {
    impl_->push_event(fmt::format(
        R"({{"Type":"container","Action":"create","Actor":{{"ID":"{}","Attributes":{{"name":"{}"}}}},"time":1}})",
        c.id, name));
  }
  return c.id;
}

void FakeDocker::add_image(const std::string& ref, const std::string& id, uint64_t archive_size, int64_t created) {
  std::lock_guard lock(impl_->mu);
  const std::string image = id.empty() ? "sha256:" + hex_id(ref) : id;
  impl_->archive_sizes[image] = archive_size;
  impl_->image_meta[image].created = created;
  impl_->tag(ref, image);
}

std::string FakeDocker::image_id(const std::string& ref) {
  std::lock_guard lock(impl_->mu);
  return impl_->image_id(ref);
}

void FakeDocker::add_volume(const std::string& name, const std::string& driver) {
  std::lock_guard lock(impl_->mu);
  impl_->add_volume(name, driver);
}

std::string FakeDocker::add_network(const std::string& name, const std::string& driver) {
  std::lock_guard lock(impl_->mu);
  Impl::Network n{hex_id(name_ + "/net/" + name), name, driver};
  impl_->networks.push_back(n);
  impl_->event("network", "create", n.id, "\"name\":" + quote(name) + ",\"type\":" + quote(driver));
  return n.id;
}

bool FakeDocker::has_image(const std::string& ref) {
  std::lock_guard lock(impl_->mu);
  return !impl_->image_id(ref).empty();
}

bool FakeDocker::has_volume(const std::string& name) {
  std::lock_guard lock(impl_->mu);
  return impl_->volumes.count(name) > 0;
}

void FakeDocker::join(std::shared_ptr<SharedNetworks> shared, bool manager) {
  std::lock_guard lock(impl_->mu);
  if (shared && shared->swarm && manager) {
    std::lock_guard slock(shared->mu);
    if (shared->manager_node_id.empty()) shared->manager_node_id = hex_id(name_ + "/node").substr(0, 25);
  }
  impl_->shared = std::move(shared);
  impl_->manager = manager;
  impl_->sync_shared();
  // dockerd announces no event when it joins a swarm: the proxy sees it in /info, read again
  // every half minute. This reload stands in for that wait.
  impl_->event("daemon", "reload", hex_id(name_));
}

bool FakeDocker::has_network(const std::string& name) {
  std::lock_guard lock(impl_->mu);
  return impl_->network(name) != nullptr;
}

FakeDocker::Archive FakeDocker::image_archive(const std::string& ref) {
  std::lock_guard lock(impl_->mu);
  Archive a;
  const std::string id = impl_->image_id(ref);
  if (id.empty()) return a;
  const std::string saved = impl_->images.count(ref) ? ref : impl_->images.count(ref + ":latest") ? ref + ":latest" : "-";
  const std::string head = archive_header(id, saved);
  a.sum = checksum_update(1469598103934665603ull, head.data(), head.size());
  const uint64_t size = impl_->archive_sizes[id];
  std::string block;
  for (uint64_t done = 0; done < size;) {
    block.clear();
    for (; block.size() < 65536 && done < size; ++done) block += pattern_byte(done);
    a.sum = checksum_update(a.sum, block.data(), block.size());
  }
  a.bytes = head.size() + size;
  return a;
}

std::vector<FakeDocker::Archive> FakeDocker::loads() {
  std::lock_guard lock(impl_->mu);
  return impl_->loads;
}

void FakeDocker::set_daemon_labels(std::vector<std::string> labels) {
  std::lock_guard lock(impl_->mu);
  impl_->daemon_labels = std::move(labels);
  impl_->event("daemon", "reload", hex_id(name_));  // as dockerd announces a configuration reload
}

void FakeDocker::publish(const std::string& ref, int host_port) {
  std::lock_guard lock(impl_->mu);
  if (auto* c = impl_->find(ref)) {
    c->published.push_back(host_port);
    impl_->event("container", "start", c->id, "\"name\":" + quote(c->name));
  }
}

std::string FakeDocker::create_body(const std::string& ref) {
  std::lock_guard lock(impl_->mu);
  auto* c = impl_->find(ref);
  return c ? c->body : "";
}

bool FakeDocker::has_container(const std::string& ref) {
  std::lock_guard lock(impl_->mu);
  return impl_->find(ref) != nullptr;
}

std::vector<RecordedRequest> FakeDocker::requests(const std::string& prefix) {
  std::lock_guard lock(impl_->mu);
  std::vector<RecordedRequest> out;
  for (const auto& r : impl_->recorded) {
    auto path = r.target.substr(0, r.target.find('?'));
    auto v = path.find('/', 1);
    if (path.starts_with("/v1.") && v != std::string::npos) path = path.substr(v);
    if (path.starts_with(prefix)) out.push_back(r);
  }
  return out;
}

void FakeDocker::emit_event(const std::string& json) {
  std::lock_guard lock(impl_->mu);
  impl_->push_event(json);
}

void FakeDocker::set_state_events(bool on) {
  std::lock_guard lock(impl_->mu);
  impl_->state_events = on;
}

int FakeDocker::open_event_streams() {
  std::lock_guard lock(impl_->mu);
  return impl_->event_streams;
}

// A connection: requests one after another, each answered from the in-memory state.
void FakeDocker::serve(Socket& s) {
  auto& im = *impl_;
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> p;
    p.body_limit(64 << 20);
    error_code ec;
    http::read_header(s, buffer, p, ec);
    if (ec) return;
    std::string target(p.get().target());
    std::string path = target.substr(0, target.find('?'));
    if (path.starts_with("/v1.")) path = path.substr(path.find('/', 1));
    Fault fault = Fault::kNone;
    {
      std::unique_lock lock(im.mu);
      im.thawed.wait(lock, [&] { return !im.frozen || !im.running; });
      if (!im.running) return;
      for (const auto& [prefix, f] : im.faults) {
        if (path.starts_with(prefix)) fault = f;
      }
    }
    if (fault != Fault::kNone) {
      serve_fault(s, fault);
      return;
    }
    if ((path == "/grpc" || path == "/session") && p.get().method() == http::verb::post) {
      // BuildKit's connections: upgraded to h2c, then (here) a line naming the engine and an
      // echo of every byte until the client's EOF, answered with a last line, then EOF.
      http::read(s, buffer, p, ec);
      if (ec) return;
      auto req = p.release();
      RecordedRequest rec{"POST", target, "", {}};
      for (const auto& f : req) rec.headers[std::string(f.name_string())] = std::string(f.value());
      {
        std::lock_guard lock(im.mu);
        im.recorded.push_back(rec);
      }
      if (req[http::field::upgrade] != "h2c") {  // dockerd's words
        const std::string msg = req[http::field::upgrade].empty()
                                    ? "no upgrade proto in request"
                                    : "protocol " + std::string(req[http::field::upgrade]) + " not supported";
        const std::string body = "{\"message\":" + quote(msg) + "}";
        const std::string reply = fmt::format("HTTP/1.1 {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                                              path == "/grpc" ? "500 Internal Server Error" : "400 Bad Request",
                                              body.size(), body);
        asio::write(s, asio::buffer(reply), ec);
        continue;
      }
      const std::string hello = "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" + name_ + path + "\n";
      asio::write(s, asio::buffer(hello), ec);
      if (ec) return;
      if (buffer.size() > 0) {  // bytes the client sent right after its request
        asio::write(s, buffer.data(), ec);
        buffer.consume(buffer.size());
      }
      char chunk[4096];
      for (;;) {
        const std::size_t n = s.read_some(asio::buffer(chunk), ec);
        if (ec) break;
        asio::write(s, asio::buffer(chunk, n), ec);
        if (ec) return;
      }
      if (ec != asio::error::eof) return;
      asio::write(s, asio::buffer("bye from " + name_ + "\n"), ec);
      s.shutdown(Socket::shutdown_send, ec);
      return;
    }
    if (path == "/images/load") {
      // docker load: the archive is read as it arrives, never whole, however large.
      p.body_limit(std::numeric_limits<uint64_t>::max());
      Archive got;
      got.sum = 1469598103934665603ull;
      std::string head;
      while (!p.is_done() && !ec) {
        http::read_some(s, buffer, p, ec);
        auto& piece = p.get().body();
        got.sum = checksum_update(got.sum, piece.data(), piece.size());
        got.bytes += piece.size();
        if (head.size() < 512 && head.find('\n') == std::string::npos) head += piece.substr(0, 512);
        piece.clear();
      }
      if (ec) return;
      std::lock_guard lock(im.mu);
      im.recorded.push_back({"POST", target, "", {}});
      im.loads.push_back(got);
      std::istringstream words(head.substr(0, head.find('\n')));
      std::string magic, id, ref;
      words >> magic >> id >> ref;
      std::string answer;
      if (magic != "FAKEIMAGE" || id.empty()) {  // not a fake image: said as received
        answer = fmt::format("{{\"stream\":\"Loaded {} bytes on {}\\n\"}}", got.bytes, name_);
      } else {
        im.images[ref == "-" ? id : ref] = id;  // saved by ID: loaded untagged
        im.archive_sizes[id] = got.bytes - head.find('\n') - 1;
        im.event("image", "load", id);
        answer = "{\"stream\":\"Loaded image: " + ref + "\\n\"}";
      }
      answer += "\r\n";  // docker's JSON stream: a line per message
      std::string reply = fmt::format(
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}", answer.size(), answer);
      asio::write(s, asio::buffer(reply), ec);
      if (ec) return;
      continue;
    }
    http::read(s, buffer, p, ec);
    if (ec) return;
    auto req = p.release();
    RecordedRequest rec{std::string(req.method_string()), target, req.body(), {}};
    for (const auto& f : req) rec.headers[std::string(f.name_string())] = std::string(f.value());
    {
      std::lock_guard lock(im.mu);
      im.recorded.push_back(rec);
    }
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.set("Api-Version", "1.41");
    auto json = [&](http::status st, std::string body) {
      res.result(st);
      res.body() = std::move(body);
    };
    auto error = [&](http::status st, const std::string& msg) { json(st, "{\"message\":" + quote(msg) + "}"); };
    const auto m = req.method();
    std::unique_lock lock(im.mu);
    im.sync_shared();
    bool all_forced = false;  // a status filter lists stopped containers too

    if (path == "/_ping") {
      res.set(http::field::content_type, "text/plain");
      res.body() = "OK";
    } else if (path == "/version") {
      json(http::status::ok, R"({"Version":"20.10-fake","ApiVersion":"1.41","MinAPIVersion":"1.12","Os":"linux","Arch":"amd64"})");
    } else if (path == "/info") {
      int running = 0, paused = 0;  // as dockerd counts them: a paused container is not running
      for (auto& c : im.containers) {
        paused += c.running && c.paused;
        running += c.running && !c.paused;
      }
      std::set<std::string> image_ids;
      for (const auto& [ref, id] : im.images) image_ids.insert(id);
      std::string labels;
      for (const auto& l : im.daemon_labels) labels += (labels.empty() ? "" : ",") + quote(l);
      json(http::status::ok, fmt::format(R"J({{"ID":"{}","Name":"{}","Containers":{},"ContainersRunning":{},"ContainersPaused":{},"ContainersStopped":{},"Images":{},"NCPU":2,"MemTotal":1000,"ServerVersion":"20.10-fake","OSType":"linux","Driver":"vfs","KernelVersion":"6.1.0-fake","OperatingSystem":"Debian GNU/Linux 12 (bookworm)","Architecture":"x86_64","Labels":[{}],"SystemTime":"{}",{}}})J",
                                         hex_id(name_).substr(0, 12), name_, im.containers.size(), running, paused,
                                         im.containers.size() - running - paused, image_ids.size(), labels,
                                         docker_time(now_ns()), im.multihost_info(name_)));
    } else if (path == "/containers/json" && m == http::verb::get) {
      const std::string all_value = query_value(target, "all");
      const bool all = !all_value.empty() && all_value != "0" && all_value != "false";
      // Filters as dockerd applies them: id (a prefix), name and status (a value or an
      // expression), label (k or k=v), network (name or ID, from the create body).
      docker::Filters f = docker::parse_filters(query_value(target, "filters")).value_or(docker::Filters{});
      auto match = [&](const std::string& key, const std::string& source) { return docker::filter_match(f, key, source); };
      if (f.count("status") && !f["status"].empty()) all_forced = true;
      std::vector<Impl::Container*> list;
      const std::string limit = query_value(target, "limit");
      for (auto& c : im.containers) {
        // (as dockerd: a limit lists stopped containers too)
        const bool listed_all = all || all_forced || (!limit.empty() && std::stoi(limit) > 0);
        if (!listed_all && !c.running) continue;
        if (f.count("id") && std::none_of(f["id"].begin(), f["id"].end(), [&](const std::string& prefix) { return !prefix.empty() && c.id.starts_with(prefix); })) continue;
        if (!match("name", c.name) && !match("name", "/" + c.name)) continue;
        if (!match("status", std::string(docker::state_word(c.state())))) continue;
        bool labels_ok = true;
        for (const auto& l : f["label"]) {
          auto eq = l.find('=');
          std::string want = quote(l.substr(0, eq)) + ":" + (eq == std::string::npos ? "" : quote(l.substr(eq + 1)));
          if (c.body.find(eq == std::string::npos ? quote(l.substr(0, eq)) + ":" : want) == std::string::npos) labels_ok = false;
        }
        if (!labels_ok) continue;
        if (f.count("network")) {  // a network's name, or a prefix of its ID (dockerd's list.go)
          bool on = false;
          for (const auto& n : im.networks_of(c)) {
            Impl::Network* net = im.network(n);
            for (const auto& ref : f["network"]) on = on || ref == n || (net && net->id.starts_with(ref));
          }
          if (!on) continue;
        }
        list.push_back(&c);
      }
      all_forced = false;
      std::sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->created_ns > b->created_ns; });
      // since/before a container (an ID or name here): those made after / before it, as
      // dockerd walks its newest-first list.
      for (const char* key : {"since", "before"}) {
        if (!f.count(key) || f[key].empty()) continue;
        Impl::Container* bound = im.find(f[key].back());
        if (!bound) continue;
        std::vector<Impl::Container*> all_made;  // (the bound itself may be filtered out: compare times)
        for (auto* c : list) {
          if (std::string_view(key) == "since" ? c->created_ns > bound->created_ns : c->created_ns < bound->created_ns) {
            all_made.push_back(c);
          }
        }
        list = std::move(all_made);
      }
      if (!limit.empty() && std::stoi(limit) > 0 && list.size() > std::size_t(std::stoi(limit))) list.resize(std::stoi(limit));
      std::string out = "[";
      const auto now = docker::Clock::now();
      for (auto* c : list) {
        if (out.size() > 1) out += ",";
        out += im.list_entry(*c, name_, now);
      }
      json(http::status::ok, out + "]");
    } else if (path == "/containers/create") {
      simdjson::dom::parser parser;
      simdjson::dom::element root;
      std::string_view image;
      if (parser.parse(req.body()).get(root) || root["Image"].get_string().get(image)) {
        error(http::status::bad_request, "invalid JSON");
      } else if (im.image_id(std::string(image)).empty()) {
        error(http::status::not_found, "No such image: " + std::string(image));
      } else {
        std::string cname = query_value(target, "name");
        if (cname.empty()) cname = "c" + std::to_string(im.containers.size());
        const std::string missing = im.check_refs(req.body());
        if (std::any_of(im.containers.begin(), im.containers.end(), [&](const auto& x) { return x.name == cname; })) {
          error(http::status::conflict, "Conflict. The container name \"/" + cname + "\" is already in use");
        } else if (!missing.empty()) {
          error(http::status::not_found, missing);
        } else {
          Impl::Container c{hex_id(name_ + "/" + cname + std::to_string(im.recorded.size())), cname, std::string(image),
                            static_cast<int64_t>(1000 + im.recorded.size()), false, req.body(), {}};
          c.created_ns = c.created * 1'000'000'000 + (++im.creates % 1'000'000'000);
          c.image_id = im.image_id(std::string(image));
          simdjson::dom::object bindings;  // the host ports it will publish once started
          if (!root["HostConfig"]["PortBindings"].get_object().get(bindings)) {
            for (auto b : bindings) {
              simdjson::dom::array list;
              if (b.value.get_array().get(list)) continue;
              for (auto one : list) {
                std::string_view port;
                if (!one["HostPort"].get_string().get(port) && !port.empty()) c.published.push_back(std::stoi(std::string(port)));
              }
            }
          }
          im.containers.push_back(c);
          im.count_shared_users(c, true);
          im.sync_shared();  // a swarm worker sees the network its container joined
          im.push_event(fmt::format(R"({{"Type":"container","Action":"create","Actor":{{"ID":"{}","Attributes":{{"name":"{}"}}}},"time":1}})", c.id, cname));
          json(http::status::created, "{\"Id\":\"" + c.id + "\",\"Warnings\":[]}");
        }
      }
    } else if (path == "/containers/prune") {
      json(http::status::ok, "{\"ContainersDeleted\":[\"gone-on-" + name_ + "\"],\"SpaceReclaimed\":7}");
    } else if (path.starts_with("/containers/")) {
      std::string rest = path.substr(12);
      std::string ref = rest.substr(0, rest.find('/'));
      std::string action = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
      Impl::Container* c = im.find(ref);
      if (!c) {
        error(http::status::not_found, "No such container: " + ref);
      } else if (action == "json") {
        json(http::status::ok, im.inspect(*c));
      } else if (action == "start") {
        if (!c->running) {
          c->running = true;
          c->paused = false;
          c->started_ns = now_ns();
          c->finished_ns = 0;  // (dockerd keeps it; the list does not show it while running)
          im.event("container", "start", c->id, "\"name\":" + quote(c->name));
        }
        res.result(http::status::no_content);
      } else if (action == "stop" || action == "kill" || action == "restart") {
        if (action == "kill") im.state_event("kill", *c, ",\"signal\":\"9\"");
        if (c->running) {
          c->running = c->paused = false;
          c->exit_code = action == "kill" ? 137 : 0;
          c->finished_ns = now_ns();
          im.state_event("die", *c, fmt::format(",\"exitCode\":\"{}\"", c->exit_code));
        }
        if (action == "stop") im.state_event("stop", *c);
        if (action == "restart") {
          c->running = true;
          c->started_ns = now_ns();
          im.state_event("start", *c);
          im.state_event("restart", *c);
        }
        res.result(http::status::no_content);
      } else if (action == "pause" || action == "unpause") {
        if (!c->running) {
          error(http::status::conflict, "Container " + c->id + " is not running");
        } else {
          c->paused = action == "pause";
          im.state_event(action, *c);
          res.result(http::status::no_content);
        }
      } else if (action == "rename") {
        c->name = query_value(target, "name");
        im.state_event("rename", *c);
        res.result(http::status::no_content);
      } else if (action == "logs") {
        res.set(http::field::content_type, "text/plain");
        res.body() = "logs of " + c->name + " on " + name_ + "\n";
      } else if (action == "exec") {
        std::string exec_id = hex_id(c->id + std::to_string(im.execs.size()));
        im.execs[exec_id] = c->id;
        json(http::status::created, "{\"Id\":\"" + exec_id + "\"}");
      } else if (action.empty() && m == http::verb::delete_) {
        std::string id = c->id;
        im.count_shared_users(*c, false);
        std::erase_if(im.containers, [&](auto& x) { return x.id == id; });
        im.sync_shared();
        im.push_event(fmt::format(R"({{"Type":"container","Action":"destroy","Actor":{{"ID":"{}","Attributes":{{}}}},"time":2}})", id));
        res.result(http::status::no_content);
      } else {
        res.result(http::status::no_content);
      }
    } else if (path.starts_with("/exec/")) {
      std::string id = path.substr(6, path.find('/', 6) - 6);
      if (!im.execs.count(id)) {
        error(http::status::not_found, "No such exec instance: " + id);
      } else {
        json(http::status::ok, "{\"ID\":\"" + id + "\",\"ContainerID\":\"" + im.execs[id] + "\",\"ExitCode\":0}");
      }
    } else if (path == "/images/json") {
      std::set<std::string> ids;
      for (auto& [ref, id] : im.images) ids.insert(id);
      std::string out = "[";
      for (const auto& id : ids) {  // one entry per image, its tags together (dockerd's)
        std::string tags;
        for (const auto& t : im.tags_of(id)) tags += (tags.empty() ? "" : ",") + quote(t);
        if (tags.empty()) tags = "\"<none>:<none>\"";
        if (out.size() > 1) out += ",";
        out += fmt::format(R"({{"Id":"{}","RepoTags":[{}],"Created":{},"Size":1}})", id, tags, im.image_meta[id].created);
      }
      json(http::status::ok, out + "]");
    } else if (path == "/build") {
      // docker build (the legacy builder): the context read, the tag given to a new image.
      const std::string id = "sha256:" + hex_id(name_ + "/build" + std::to_string(++im.builds));
      im.archive_sizes[id] = 1024;
      im.image_meta[id].created = now_ns() / 1'000'000'000;
      const std::string t = query_value(target, "t");
      if (!t.empty()) im.tag(t.find(':') == std::string::npos ? t + ":latest" : t, id);
      if (t.empty()) im.images[id] = id;
      json(http::status::ok, "{\"stream\":\"Successfully built " + id.substr(7, 12) + " on " + name_ + "\\n\"}\r\n");
    } else if (path.starts_with("/images/") && path.ends_with("/tag")) {
      const std::string ref = path.substr(8, path.size() - 12);
      const std::string id = im.image_id(ref);
      std::string repo = query_value(target, "repo"), tag = query_value(target, "tag");
      if (id.empty()) {
        error(http::status::not_found, "No such image: " + ref);
      } else {
        im.tag(repo + ":" + (tag.empty() ? "latest" : tag), id);
        res.result(http::status::created);
      }
    } else if (path.starts_with("/images/") && m == http::verb::delete_) {
      // docker rmi: a tag is taken off; the image goes with its last one, unless a
      // container uses it (then a 409 without force, an untagged image with it).
      std::string ref = path.substr(8);
      const std::string id = im.image_id(ref);
      if (!im.images.count(ref) && im.images.count(ref + ":latest")) ref += ":latest";
      const bool force = query_value(target, "force") == "1";
      const Impl::Container* user = nullptr;
      for (const auto& c : im.containers) {
        if (c.image_id == id) user = &c;
      }
      if (id.empty()) {
        error(http::status::not_found, "No such image: " + ref);
      } else if (im.images.count(ref) && im.tags_of(id).size() == 1 && user && !force) {
        error(http::status::conflict, "conflict: unable to remove repository reference \"" + ref +
                                          "\" (must force) - container " + user->id.substr(0, 12) +
                                          " is using its referenced image " + id.substr(7, 12));
      } else {
        std::string out = "[";
        if (im.images.count(ref) && ref != id) {
          im.images.erase(ref);
          im.event("image", "untag", id, "\"name\":" + quote(id));
          out += "{\"Untagged\":" + quote(ref) + "}";
        }
        if (im.tags_of(id).empty() && !user) {
          std::erase_if(im.images, [&](const auto& kv) { return kv.second == id; });
          im.event("image", "delete", id, "\"name\":" + quote(id));
          out += std::string(out.size() > 1 ? "," : "") + "{\"Deleted\":" + quote(id) + "}";
        } else if (im.tags_of(id).empty()) {
          im.images[id] = id;  // untagged, kept for its container
        }
        json(http::status::ok, out + "]");
      }
    } else if (path == "/images/create") {
      // A pull: three progress lines, chunked, and then the image is here.
      std::string ref = query_value(target, "fromImage");
      std::string tag = query_value(target, "tag");
      if (!tag.empty()) ref += ":" + tag;
      im.images[ref] = "sha256:" + hex_id(ref);
      lock.unlock();
      std::string body = "{\"status\":\"Pulling from " + ref + "\",\"id\":\"latest\"}\r\n"
                         "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"abc123\"}\r\n"
                         "{\"status\":\"Status: Downloaded newer image for " + ref + "\"}\r\n";
      res.body() = body;
      res.chunked(true);
      http::write(s, res, ec);
      if (ec) return;
      continue;
    } else if (path == "/images/load") {
      // docker load: the body is the archive; answers one progress line with its size.
      lock.unlock();
      res.body() = fmt::format("{{\"stream\":\"Loaded {} bytes on {}\\n\"}}\r\n", req.body().size(), name_);
      res.chunked(true);
      http::write(s, res, ec);
      if (ec) return;
      continue;
    } else if (path.starts_with("/images/") && path.ends_with("/get") && path != "/images/get") {
      // docker save: the header line, then the payload, chunked, 64 KiB at a time.
      std::string ref = path.substr(8, path.size() - 12);
      const std::string id = im.image_id(ref);
      if (id.empty()) {
        error(http::status::not_found, "No such image: " + ref);
      } else {
        const uint64_t size = im.archive_sizes[id];
        lock.unlock();
        std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n";
        // (A tag as `docker save` records it: with its tag, ":latest" when none was named.)
        const std::string saved = im.images.count(ref) ? ref : im.images.count(ref + ":latest") ? ref + ":latest" : "-";
        std::string data = archive_header(id, saved);
        for (uint64_t done = 0;;) {
          for (; data.size() < 65536 && done < size; ++done) data += pattern_byte(done);
          if (data.empty()) break;
          out += fmt::format("{:x}\r\n", data.size()) + data + "\r\n";
          asio::write(s, asio::buffer(out), ec);
          if (ec) return;
          out.clear();
          data.clear();
        }
        asio::write(s, asio::buffer(std::string("0\r\n\r\n")), ec);
        if (ec) return;
        continue;
      }
    } else if (path.starts_with("/images/") && path.ends_with("/json")) {
      std::string ref = path.substr(8, path.size() - 13);
      const std::string id = im.image_id(ref);
      if (!id.empty()) {
        std::string tags;
        for (const auto& t : im.tags_of(id)) tags += (tags.empty() ? "" : ",") + quote(t);
        const auto& meta = im.image_meta[id];
        json(http::status::ok, fmt::format(R"({{"Id":"{}","RepoTags":[{}],"Created":"{}","Config":{{"Env":["IMAGE_ENV=1"]}},"Metadata":{{"LastTagTime":"{}"}}}})",
                                           id, tags, docker_time(meta.created * 1'000'000'000), docker_time(meta.last_tag)));
      } else {
        error(http::status::not_found, "No such image: " + ref);
      }
    } else if (path == "/volumes/create") {
      simdjson::dom::parser parser;
      simdjson::dom::element root;
      std::string_view vname, driver = "local";
      if (!parser.parse(req.body()).get(root)) {
        if (root["Name"].get_string().get(vname)) {}
        if (root["Driver"].get_string().get(driver)) {}
      }
      std::string made = vname.empty() ? hex_id(name_ + "/vol" + std::to_string(im.recorded.size())) : std::string(vname);
      im.add_volume(made, std::string(driver));
      json(http::status::created, "{\"Name\":" + quote(made) + ",\"Driver\":" + quote(im.volumes[made]) +
                                      ",\"Scope\":\"local\"}");
    } else if (path == "/volumes") {
      std::string out = "{\"Volumes\":[";
      bool first = true;
      for (auto& [v, driver] : im.volumes) {
        out += (first ? "" : ",") + std::string("{\"Name\":") + quote(v) + ",\"Driver\":" + quote(driver) + "}";
        first = false;
      }
      json(http::status::ok, out + "],\"Warnings\":null}");
    } else if (path.starts_with("/volumes/")) {
      std::string vname = path.substr(9);
      if (!im.volumes.count(vname)) {
        error(http::status::not_found, "get " + vname + ": no such volume");
      } else if (m == http::verb::delete_) {
        im.volumes.erase(vname);
        im.event("volume", "destroy", vname, "\"driver\":\"local\"");
        res.result(http::status::no_content);
      } else {
        json(http::status::ok, "{\"Name\":" + quote(vname) + ",\"Driver\":" + quote(im.volumes[vname]) + "}");
      }
    } else if (!(im.shared && im.shared->swarm) &&
               std::any_of(std::begin(kSwarmPaths), std::end(kSwarmPaths), [&](std::string_view prefix) {
                 return path == prefix || path.starts_with(std::string(prefix) + "/");
               })) {  // an engine outside swarm mode
      error(http::status::service_unavailable,
            path == "/swarm/leave" ? "This node is not part of a swarm"
                                   : "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm "
                                     "join\" to connect this node to swarm and try again.");
    } else if (path == "/networks" && m == http::verb::get) {
      std::string out = "[";
      for (auto& n : im.networks) {
        if (out.size() > 1) out += ",";
        out += im.network_json(n, false);
      }
      json(http::status::ok, out + "]");
    } else if (path == "/networks/create") {
      simdjson::dom::parser parser;
      simdjson::dom::element root;
      std::string_view nname, driver = "bridge", subnet;
      if (!parser.parse(req.body()).get(root)) {
        if (root["Name"].get_string().get(nname)) {}
        if (root["Driver"].get_string().get(driver)) {}
        simdjson::dom::array configs;
        if (!root["IPAM"]["Config"].get_array().get(configs)) {
          for (auto c : configs) {
            if (c["Subnet"].get_string().get(subnet)) {}
          }
        }
      }
      std::unique_lock<std::mutex> slock;
      if (im.shared) slock = std::unique_lock(im.shared->mu);
      const bool shared_dup = im.shared && im.shared->find(std::string(nname)) &&
                              im.shared->find(std::string(nname))->name == nname;
      if (shared_dup || (im.network(std::string(nname)) && im.network(std::string(nname))->name == nname)) {
        error(http::status::conflict, "network with name " + std::string(nname) + " already exists");
      } else if (driver == "overlay" && im.shared && im.shared->swarm && !im.manager) {
        error(http::status::forbidden,
              "Cannot create a multi-host network from a worker node. Please create the network from a manager node.");
      } else if (driver == "overlay" && im.shared) {
        // Swarm's IDs are 25 characters of [0-9a-z]; a cluster store's are 64 hex.
        std::string id = hex_id("shared/net/" + std::string(nname));
        if (im.shared->swarm) id = "s" + id.substr(0, 24);
        im.shared->nets.push_back({id, std::string(nname), std::string(subnet), {}});
        im.networks.push_back({id, std::string(nname), "overlay", im.shared->swarm ? "swarm" : "global",
                               std::string(subnet)});
        im.event("network", "create", id, "\"name\":" + quote(nname) + ",\"type\":\"overlay\"");
        json(http::status::created, "{\"Id\":\"" + id + "\",\"Warning\":\"\"}");
      } else {
        Impl::Network n{hex_id(name_ + "/net/" + std::string(nname)), std::string(nname), std::string(driver), "local",
                        std::string(subnet)};
        im.networks.push_back(n);
        im.event("network", "create", n.id, "\"name\":" + quote(nname) + ",\"type\":" + quote(driver));
        json(http::status::created, "{\"Id\":\"" + n.id + "\",\"Warning\":\"\"}");
      }
    } else if (path.starts_with("/networks/")) {
      std::string rest = path.substr(10);
      std::string ref = rest.substr(0, rest.find('/'));
      std::string action = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
      Impl::Network* n = im.network(ref);
      if (!n) {
        error(http::status::not_found, "network " + ref + " not found");
      } else if (action == "connect" || action == "disconnect") {
        res.body() = "";
      } else if (m == http::verb::delete_) {
        const std::string id = n->id, nname = n->name;
        std::string refused;
        if (n->scope != "local") {
          std::lock_guard slock(im.shared->mu);
          auto* sn = im.shared->find(id);
          if (im.shared->swarm && !im.manager) {
            refused = "rpc error: code = FailedPrecondition desc = network " + id + " is in use";
          } else if (sn && !sn->users.empty()) {
            refused = "error while removing network: network " + nname + " id " + id + " has active endpoints";
          } else {
            std::erase_if(im.shared->nets, [&](auto& x) { return x.id == id; });
          }
        } else if (std::any_of(im.containers.begin(), im.containers.end(), [&](const auto& c) {
                     for (const auto& r : im.networks_of(c)) if (r == nname || r == id) return true;
                     return false;
                   })) {
          refused = "error while removing network: network " + nname + " id " + id + " has active endpoints";
        }
        if (!refused.empty()) {
          error(http::status::forbidden, refused);
        } else {
          std::erase_if(im.networks, [&](auto& x) { return x.id == id; });
          im.event("network", "destroy", id, "\"name\":" + quote(nname));
          res.result(http::status::no_content);
        }
      } else {
        json(http::status::ok, im.network_json(*n, true));
      }
    } else if (path == "/plugins") {
      json(http::status::ok, "[]");
    } else if (path.starts_with("/plugins/")) {  // an engine without plugins
      std::string pname = path.substr(9, path.rfind('/') > 8 ? path.rfind('/') - 9 : std::string::npos);
      error(http::status::not_found, "plugin \"" + pname + "\" not found");
    } else if (path == "/events") {
      // A live stream: chunked, every event so far (since=0) and every new one.
      const bool history = !query_value(target, "since").empty();
      ++im.event_streams;
      // (Where the stream starts is fixed before its header goes: an event emitted once the
      // peer has the header is in it, as with dockerd.)
      std::size_t next = history ? 0 : im.events.size();
      lock.unlock();
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
      asio::write(s, asio::buffer(head), ec);
      lock.lock();
      const uint64_t gen = im.generation;
      while (!ec && im.running && im.generation == gen) {
        while (next < im.events.size() && !ec && !im.frozen) {
          std::string line = im.events[next++] + "\n";
          std::string chunk = fmt::format("{:x}\r\n{}\r\n", line.size(), line);
          lock.unlock();
          asio::write(s, asio::buffer(chunk), ec);
          lock.lock();
        }
        // A closed client is noticed when the engine next writes; also poll for it.
        im.events_cv.wait_for(lock, std::chrono::milliseconds(50));
        char byte;
        if (::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) break;
      }
      --im.event_streams;
      return;
    } else {
      error(http::status::not_found, "page not found");
    }
    lock.unlock();
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    http::write(s, res, ec);
    if (ec || !res.keep_alive()) return;
  }
}

}  // namespace flocker::test
