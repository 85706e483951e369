#include "flock/control/control_plane.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "docker/json.h"
#include "flock/model/model_sync.h"
#include "flock/model/tag_sync.h"
#include "transport/client_call.h"
#include "transport/gather.h"

namespace flocker::flock {

namespace asio = transport::asio;
namespace http = transport::http;
using transport::Task;

struct ControlPlane::Monitor {
  explicit Monitor(asio::io_context& ctx, std::string n, transport::Address a)
      : name(std::move(n)), address(std::move(a)), wake(ctx), retry(ctx) {}
  std::string name;
  transport::Address address;
  asio::steady_timer wake;   // the health loop's sleep; cancelled to check at once
  asio::steady_timer retry;  // the events loop's sleep
  bool stopped = false;
  bool healthy = false;
  bool have_version = false;
  std::chrono::steady_clock::time_point info_stored{};  // when its /info was last written
  std::chrono::steady_clock::time_point urgent_check{};  // the last check_now that woke it
  transport::StreamCall* events = nullptr;  // the open event stream, to cancel it
};

namespace {

// The control plane's own calls (checks, lists, re-reads) keep few idle connections per
// engine: a thousand engines would otherwise hold thousands of descriptors and buffers
// after their first listing.
transport::PoolOptions with_few_idle(transport::PoolOptions pool) {
  pool.max_idle_per_upstream = std::min<std::size_t>(pool.max_idle_per_upstream, 2);
  return pool;
}

}  // namespace

ControlPlane::ControlPlane(Flock& flock, transport::PoolOptions pool)
    : flock_(flock),
      engine_tls_(flock.options.engine_tls),
      worker_(1000, with_few_idle(pool)),
      inventory_timer_(worker_.context()),
      sync_slots_(worker_.context(), 32) {}

ControlPlane::~ControlPlane() { stop(); }

void ControlPlane::start() {
  started_ = true;
  asio::co_spawn(worker_.context(), inventory_loop(), asio::detached);
  thread_ = std::thread([this] { worker_.context().run(); });
}

void ControlPlane::stop() {
  if (!started_) return;
  asio::post(worker_.context(), [this] {
    stopping_ = true;
    inventory_timer_.cancel();
    sync_slots_.close();
    for (auto& [_, m] : monitors_) {
      m->stopped = true;
      m->wake.cancel();
      m->retry.cancel();
      if (m->events) m->events->cancel();
    }
    worker_.pool().close_all();
  });
  if (thread_.joinable()) thread_.join();
  started_ = false;
}

void ControlPlane::refresh_inventory_now() {
  flock_.inventory_stale = true;
  asio::post(worker_.context(), [this] { inventory_timer_.cancel(); });
}

Task<void> ControlPlane::sleep(asio::steady_timer& timer, std::chrono::milliseconds d) {
  timer.expires_after(d);
  transport::error_code ec;
  co_await timer.async_wait(transport::ec_token(ec));
}

Task<void> ControlPlane::inventory_loop() {
  bool warned = false;
  while (!stopping_) {
    v1::ListRequest request;
    request.set_proxy_name(flock_.options.proxy_name);
    request.set_proxy_instance(flock_.options.proxy_instance);
    request.set_coordinated(flock_.options.coordinated);
    // Cleared before asking: a change signalled while List is in flight asks again.
    flock_.inventory_stale = false;
    auto result = co_await flock_.decider.list(request);
    auto wait = flock_.options.inventory_refresh;
    if (result.ok()) {
      if (warned) spdlog::info("decider {} answers List again", flock_.decider.address());
      warned = false;
      // Other proxies on this decider (empty when it does not track them: nothing known).
      std::vector<PeerProxy> seen;
      for (const auto& p : result.response.proxies()) {
        seen.push_back({p.proxy_name(), p.proxy_instance(), p.coordinated()});
      }
      for (const auto& p : flock_.peers.update(uncoordinated_peers(
               seen, flock_.options.proxy_instance, flock_.options.coordinated))) {
        spdlog::warn("{}", PeerProxies::log_warning(p, flock_.options.proxy_instance));
      }
      co_await apply_inventory(result.response);
      if (result.response.refresh_interval_seconds() > 0) {
        wait = std::chrono::seconds(result.response.refresh_interval_seconds());
      }
    } else {
      if (!warned) {
        spdlog::warn("decider {} List failed ({}): keeping the current inventory of {} hosts",
                     flock_.decider.address(), result.status.error_message(),
                     flock_.inventory.snapshot()->size());
      }
      warned = true;
      wait = std::min(wait, std::chrono::milliseconds(1000));  // retry soon
    }
    // Woken early when a Route names an unknown host or etcd's inventory generation moves
    // (inventory_stale; refresh_inventory_now also cuts the sleep short).
    for (auto left = wait; left.count() > 0 && !stopping_ && !flock_.inventory_stale;
         left -= std::chrono::milliseconds(1000)) {
      co_await sleep(inventory_timer_, std::min(left, std::chrono::milliseconds(1000)));
    }
  }
}

Task<void> ControlPlane::apply_inventory(const v1::ListResponse& list) {
  std::map<std::string, std::pair<transport::Address, std::map<std::string, std::string>>> wanted;
  for (const auto& h : list.hosts()) {
    if (h.name().empty() || wanted.count(h.name())) {
      spdlog::warn("decider's List: host '{}' ({}) has an empty or repeated name: ignored",
                   h.name(), h.address());
      continue;
    }
    try {
      auto address = transport::resolve_address(h.address());
      engine_tls_.apply(address, &h);
      wanted.emplace(h.name(), std::make_pair(std::move(address),
                                              std::map<std::string, std::string>(
                                                  h.labels().begin(), h.labels().end())));
    } catch (const std::exception& e) {
      spdlog::warn("decider's List: host '{}': {}: ignored", h.name(), e.what());
    }
  }
  // Hosts gone, or moved to another address: stop their monitors.
  for (auto it = monitors_.begin(); it != monitors_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || w->second.first.text != it->second->address.text) {
      spdlog::info("host {} leaves the flock", it->first);
      auto& m = *it->second;
      m.stopped = true;
      m.wake.cancel();
      m.retry.cancel();
      if (m.events) m.events->cancel();
      flock_.model.drop_host(it->first);
      forget_host(it->first);
      it = monitors_.erase(it);
    } else {
      ++it;
    }
  }
  flock_.inventory.update([&](HostList& hosts) {
    std::erase_if(hosts, [&](const HostState& h) { return !monitors_.count(h.name); });
    for (auto& [name, spec] : wanted) {
      HostState* existing = nullptr;
      for (auto& h : hosts) {
        if (h.name == name) existing = &h;
      }
      if (existing) {
        existing->labels = spec.second;
        continue;
      }
      HostState h;
      h.name = name;
      h.address = spec.first;
      h.labels = spec.second;
      hosts.push_back(std::move(h));
    }
  });
  for (auto& [name, spec] : wanted) {
    if (monitors_.count(name)) continue;
    spdlog::info("host {} ({}) joins the flock", name, spec.first.text);
    auto m = std::make_shared<Monitor>(worker_.context(), name, spec.first);
    monitors_[name] = m;
    asio::co_spawn(worker_.context(), health_loop(m), asio::detached);
    asio::co_spawn(worker_.context(), events_loop(m), asio::detached);
  }
  co_return;
}

void ControlPlane::watch_requests(transport::Server& server) {
  for (std::size_t i = 0; i < server.worker_count(); ++i) {
    server.worker(i).set_slow_answer_hook(flock_.options.slow_answer,
                                          [this](const std::string& address) { check_now(address); });
  }
  host_down_ = [&server](const std::string& address, const std::string& why) {
    for (std::size_t i = 0; i < server.worker_count(); ++i) {
      auto& w = server.worker(i);
      asio::post(w.context(), [&w, address, why] {
        if (auto n = w.pool().abort(address, why)) {
          spdlog::warn("engine {} is down: {} request(s) to it ended", address, n);
        }
      });
    }
  };
  host_up_ = [&server](const std::string& address) {
    for (std::size_t i = 0; i < server.worker_count(); ++i) {
      auto& w = server.worker(i);
      asio::post(w.context(), [&w, address] { w.pool().revive(address); });
    }
  };
}

void ControlPlane::settle_in_background(std::vector<std::string> tags) {
  if (tags.empty() || stopping_) return;
  // (Not awaited: the host's events go on being read while other hosts are brought in line.)
  asio::co_spawn(worker_.context(), settle_tags(worker_, flock_, std::move(tags)), asio::detached);
}

void ControlPlane::check_now(const std::string& address) {
  asio::post(worker_.context(), [this, address] {
    const auto now = std::chrono::steady_clock::now();
    for (auto& [_, m] : monitors_) {
      if (m->address.text != address || now - m->urgent_check < std::chrono::seconds(1)) continue;
      m->urgent_check = now;
      spdlog::debug("host {} is slow to answer a request: checking it now", m->name);
      m->wake.cancel();
    }
  });
}

void ControlPlane::set_health(Monitor& m, bool healthy, const std::string& why) {
  const std::string& host = m.name;
  const bool was_healthy = m.healthy;
  m.healthy = healthy;
  if (was_healthy && !healthy) {
    // Found down: the requests in flight to it end now (the I/O threads' and this thread's:
    // its event stream, its listings), instead of waiting on an engine that may never answer;
    // the I/O threads send it nothing more until it is found up again.
    worker_.pool().abort(m.address.text, why, /*refuse_new=*/false);  // (the checks go on)
    if (m.events) m.events->cancel();
    if (host_down_) host_down_(m.address.text, why);
  } else if (!was_healthy && healthy && host_up_) {
    host_up_(m.address.text);
  }
  // (Unchanged: nothing written. A write copies the host list, and a flock of a thousand
  // hosts is checked a hundred times a second.)
  {
    auto hosts = flock_.inventory.snapshot();
    const HostState* now = find_host(*hosts, host);
    if (now && now->checked && now->healthy == healthy && now->health_error == (healthy ? "" : why)) return;
  }
  bool changed = false;
  flock_.inventory.update_host(host, [&](HostState& h) {
    changed = h.healthy != healthy || !h.checked;
    h.healthy = healthy;
    h.checked = true;
    h.health_error = healthy ? "" : why;
  });
  if (changed) {
    if (healthy) {
      spdlog::info("host {} is healthy", host);
    } else {
      spdlog::warn("host {} is unhealthy: {}", host, why);
    }
  }
}

// /_ping, then /version (once) and /info: health and the figures Route's candidates carry.
Task<bool> ControlPlane::check(Monitor& m) {
  transport::CallOptions opts;
  opts.timeout = flock_.options.engine_timeout;
  auto ping = co_await transport::call(worker_, m.address,
                                       transport::make_request(http::verb::get, "/_ping"), opts);
  if (!ping.ok() || ping.response.result_int() != 200) {
    set_health(m, false, ping.ok() ? "/_ping answered " + std::to_string(ping.response.result_int())
                                        : ping.error);
    co_return false;
  }
  std::string version_json;
  if (!m.have_version) {
    auto v = co_await transport::call(worker_, m.address,
                                      transport::make_request(http::verb::get, "/version"), opts);
    if (v.ok() && v.response.result_int() == 200) version_json = v.response.body();
  }
  // While its event stream is open and its figures are fresh, the ping is the check: /info
  // (a few KB to read and parse) is asked every half minute.
  if (m.events && m.have_version && std::chrono::steady_clock::now() - m.info_stored < std::chrono::seconds(30)) {
    set_health(m, true, "");
    co_return true;
  }
  auto info = co_await transport::call(worker_, m.address,
                                       transport::make_request(http::verb::get, "/info"), opts);
  if (!info.ok() || info.response.result_int() != 200) {
    set_health(m, false, info.ok() ? "/info answered " + std::to_string(info.response.result_int())
                                        : info.error);
    co_return false;
  }
  docker::dom::parser parser;
  docker::dom::element root;
  const bool parsed = !parser.parse(info.response.body()).get(root);
  docker::dom::parser vparser;
  docker::dom::element vroot;
  const bool vparsed = !version_json.empty() && !vparser.parse(version_json).get(vroot);
  if (vparsed) m.have_version = true;
  // The figures Route's candidates carry rarely change; /info's text changes every second.
  // Written when a figure changed, or the stored /info is half a minute old.
  const auto now = std::chrono::steady_clock::now();
  if (parsed && !vparsed && now - m.info_stored < std::chrono::seconds(30)) {  // (a stream just reopened)
    auto hosts = flock_.inventory.snapshot();
    const HostState* h = find_host(*hosts, m.name);
    if (h && h->ncpu == docker::int_field(root, "NCPU") && h->mem_total == docker::int_field(root, "MemTotal") &&
        h->engine_labels == docker::engine_labels(root) && h->facts == docker::engine_facts(root) &&
        h->multihost == docker::multihost_of(root)) {
      set_health(m, true, "");
      co_return true;
    }
  }
  m.info_stored = now;
  flock_.inventory.update_host(m.name, [&](HostState& h) {
    h.info_json = info.response.body();
    h.info_at = std::chrono::system_clock::now();
    if (parsed) {
      h.containers_running = docker::int_field(root, "ContainersRunning");
      h.containers_total = docker::int_field(root, "Containers");
      h.ncpu = docker::int_field(root, "NCPU");
      h.mem_total = docker::int_field(root, "MemTotal");
      h.engine_labels = docker::engine_labels(root);
      h.facts = docker::engine_facts(root);
      h.multihost = docker::multihost_of(root);
    }
    if (vparsed) {
      h.version_json = version_json;
      h.api_version = std::string(docker::string_field(vroot, "ApiVersion"));
      h.min_api_version = std::string(docker::string_field(vroot, "MinAPIVersion"));
      h.engine_version = std::string(docker::string_field(vroot, "Version"));
    }
  });
  set_health(m, true, "");
  co_return true;
}

Task<void> ControlPlane::health_loop(std::shared_ptr<Monitor> m) {
  while (!m->stopped) {
    co_await check(*m);
    if (m->stopped) break;
    // While its event stream is open the engine is known alive (a crash ends the stream, and
    // the check runs at once): checked 5 times less often, so that a flock of a thousand
    // engines idles. (A hung engine is then noticed in 5 intervals instead of one.)
    co_await sleep(m->wake, m->events ? flock_.options.health_interval * 5 : flock_.options.health_interval);
  }
}

Task<void> ControlPlane::events_loop(std::shared_ptr<Monitor> m) {
  while (!m->stopped) {
    if (!m->healthy) {
      co_await sleep(m->retry, std::min(flock_.options.health_interval, std::chrono::milliseconds(500)));
      continue;
    }
    transport::CallResult failure;
    auto stream = co_await transport::StreamCall::open(
        worker_, m->address, transport::make_request(http::verb::get, "/events"), failure,
        flock_.options.engine_timeout);
    if (!stream) {
      co_await sleep(m->retry, flock_.options.health_interval);
      continue;
    }
    m->events = stream.get();
    // The stream is open: list everything now, and every change after the list is in the
    // stream (events that arrive while the list is on its way wait in the socket and are
    // applied after it, in order).
    // (A flock of many hosts starting, or all reconnecting at once, lists a few at a time.)
    if (!co_await sync_slots_.acquire()) {
      m->events = nullptr;
      break;
    }
    std::vector<std::string> moved_tags;
    const bool synced =
        co_await sync_host(worker_, m->address, m->name, flock_.model, flock_.options.engine_timeout, &moved_tags);
    sync_slots_.release();
    if (!synced) {
      stream->cancel();
      m->events = nullptr;
      co_await sleep(m->retry, std::chrono::milliseconds(200));
      continue;
    }
    set_event_stream(m->name, true);
    // Tags it moved while not watched, or kept while the flock moved them (it was down).
    for (auto& tag : flock_.unsettled_tags.take()) moved_tags.push_back(std::move(tag));
    settle_in_background(std::move(moved_tags));
    transport::LineSplitter lines;
    transport::error_code ec;
    std::vector<std::string> batch;
    for (;;) {
      auto piece = co_await stream->next(ec);
      if (!piece) break;
      batch.clear();
      lines.feed(*piece, [&](std::string_view line) { batch.emplace_back(line); });
      std::vector<std::string_view> views(batch.begin(), batch.end());
      auto work = apply_events(flock_.model, flock_.execs, m->name, views);
      if (work.daemon_reloaded) {  // (dockerd's labels come with a reload)
        m->info_stored = {};
        m->wake.cancel();
      }
      if (work.relists) {
        settle_in_background(
            co_await relist(worker_, m->address, m->name, flock_.model, work.relists, flock_.options.engine_timeout));
      }
      if (!work.reread.empty()) {  // the containers the events changed, read together
        std::vector<Task<bool>> reads;
        for (const auto& id : work.reread) {
          reads.push_back(reread_container(worker_, m->address, m->name, flock_.model, id, flock_.options.engine_timeout));
        }
        co_await transport::gather(std::move(reads));
      }
    }
    m->events = nullptr;
    set_event_stream(m->name, false);
    flock_.model.mark_unsynced(m->name);  // changes from now on are not seen until a new list
    if (m->stopped) break;
    if (m->healthy) {  // (else the check that found it down ended the stream, and said why)
      set_health(*m, false, "event stream lost" + (ec ? ": " + ec.message() : std::string()));
    }
    m->wake.cancel();  // re-check health now
    co_await sleep(m->retry, std::chrono::milliseconds(200));
  }
}

}  // namespace flocker::flock
