#include "flock/model/model_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "docker/api_target.h"
#include "transport/client_call.h"
#include "transport/gather.h"

namespace flocker::flock {

namespace http = transport::http;
using transport::Task;

namespace {

constexpr std::string_view kLists[] = {"/containers/json?all=1", "/images/json?all=1", "/volumes",
                                       "/networks"};

Task<std::vector<transport::CallResult>> fetch(transport::Worker& worker,
                                               const transport::Address& address,
                                               const std::vector<std::string_view>& targets,
                                               std::chrono::milliseconds timeout) {
  transport::CallOptions opts;
  opts.timeout = timeout;
  std::vector<Task<transport::CallResult>> calls;
  for (auto target : targets) {
    calls.push_back(transport::call(worker, address, transport::make_request(http::verb::get, target), opts));
  }
  co_return co_await transport::gather(std::move(calls));
}

bool answered(const transport::CallResult& r) { return r.ok() && r.response.result_int() == 200; }

}  // namespace

Task<bool> sync_host(transport::Worker& worker, const transport::Address& address, const std::string& host,
                     ObjectModel& model, std::chrono::milliseconds timeout, std::vector<std::string>* moved_tags) {
  const uint64_t seq = model.begin_read();
  auto results = co_await fetch(worker, address, std::vector<std::string_view>(std::begin(kLists), std::end(kLists)),
                                timeout);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!answered(results[i])) {
      spdlog::debug("host {}: listing {} failed: {}", host, kLists[i],
                    results[i].ok() ? std::to_string(results[i].response.result_int()) : results[i].error);
      co_return false;
    }
  }
  docker::dom::parser list_parser;
  docker::dom::array entries;
  auto images = docker::parse_image_list(results[1].response.body());
  auto volumes = docker::parse_volume_list(results[2].response.body());
  auto networks = docker::parse_network_list(results[3].response.body());
  if (list_parser.parse(results[0].response.body()).get_array().get(entries) || !images || !volumes || !networks) {
    spdlog::warn("host {}: a list answer is not the JSON an engine sends; not synced", host);
    co_return false;
  }
  // Each container's inspect, a few at a time (a host of hundreds is not asked all at once).
  constexpr std::size_t kAtOnce = 8;
  std::vector<docker::dom::element> all(entries.begin(), entries.end());
  std::vector<std::shared_ptr<const docker::ListedContainer>> listed;
  listed.reserve(all.size());
  for (std::size_t from = 0; from < all.size(); from += kAtOnce) {
    std::vector<std::string> targets;
    for (std::size_t i = from; i < std::min(all.size(), from + kAtOnce); ++i) {
      targets.push_back("/containers/" + std::string(docker::string_field(all[i], "Id")) + "/json");
    }
    auto inspects = co_await fetch(worker, address, std::vector<std::string_view>(targets.begin(), targets.end()), timeout);
    for (std::size_t k = 0; k < inspects.size(); ++k) {
      auto& r = inspects[k];
      if (r.ok() && r.response.result_int() == 404) continue;  // removed since the list: its event follows
      docker::dom::parser parser;
      docker::dom::element inspect;
      std::optional<docker::ListedContainer> one;
      if (answered(r) && !parser.parse(r.response.body()).get(inspect)) one = docker::listed_container(all[from + k], inspect, host);
      if (!one) {
        spdlog::debug("host {}: inspecting {} failed: {}", host, targets[k],
                      r.ok() ? std::to_string(r.response.result_int()) : r.error);
        co_return false;
      }
      listed.push_back(std::make_shared<const docker::ListedContainer>(std::move(*one)));
    }
  }
  auto moved = model.replace_host(host, seq, listed, *images, *volumes, *networks);
  if (moved_tags) *moved_tags = std::move(moved);
  co_return true;
}

Task<ContainerRead> read_container(transport::Worker& worker, const transport::Address& address,
                                   const std::string& host, const std::string& id, std::chrono::milliseconds timeout) {
  docker::JsonWriter filters;
  filters.begin_object().key("id").begin_array().string(id).end_array().end_object();
  const std::string list = "/containers/json?all=1&filters=" + docker::url_encode(filters.str());
  const std::string inspect = "/containers/" + id + "/json";
  std::vector<std::string_view> targets;
  targets.push_back(list);
  targets.push_back(inspect);
  auto results = co_await fetch(worker, address, targets, timeout);
  ContainerRead out;
  if (!results[0].ok() || !results[1].ok() || results[0].response.result_int() != 200) co_return out;
  docker::dom::parser list_parser, inspect_parser;
  docker::dom::array entries;
  if (list_parser.parse(results[0].response.body()).get_array().get(entries)) co_return out;
  std::optional<docker::dom::element> entry;
  for (auto e : entries) {
    if (docker::string_field(e, "Id") == id) entry = e;
  }
  const unsigned inspected = results[1].response.result_int();
  if (!entry) {
    out.answered = inspected == 404;  // gone, as both say (else: between the two, ask again)
    co_return out;
  }
  docker::dom::element root;
  if (inspected != 200 || inspect_parser.parse(results[1].response.body()).get(root)) co_return out;
  auto one = docker::listed_container(*entry, root, host);
  // dockerd announces some changes (pause, die, a network joined) before its list shows
  // them: a list that disagrees with the inspect is read again.
  if (!one || !docker::list_agrees_with_inspect(*one, *entry, root)) co_return out;
  out.answered = true;
  out.listed = std::make_shared<const docker::ListedContainer>(std::move(*one));
  co_return out;
}

namespace {

// One container read again; `links`: the containers it links to, as it was read.
Task<bool> reread_one(transport::Worker& worker, const transport::Address& address, const std::string& host,
                      ObjectModel& model, const std::string& id, std::chrono::milliseconds timeout,
                      std::vector<std::string>* links) {
  // List and inspect may disagree for a moment: read again, a little later each time.
  transport::asio::steady_timer pause(worker.context());
  for (int attempt = 0; attempt < 6; ++attempt) {
    if (attempt > 0) {
      pause.expires_after(std::chrono::milliseconds(5 << attempt));
      transport::error_code ec;
      co_await pause.async_wait(transport::ec_token(ec));
    }
    const uint64_t seq = model.begin_read();
    auto read = co_await read_container(worker, address, host, id, timeout);
    if (read.answered) {
      if (links && read.listed) *links = read.listed->links;
      model.apply_read(host, id, seq, std::move(read.listed));
      co_return true;
    }
  }
  spdlog::warn("host {}: reading container {} again failed", host, id);
  co_return false;
}

}  // namespace

Task<bool> reread_container(transport::Worker& worker, const transport::Address& address, const std::string& host,
                            ObjectModel& model, const std::string& id, std::chrono::milliseconds timeout) {
  std::vector<std::string> links;
  const bool read = co_await reread_one(worker, address, host, model, id, timeout, &links);
  // Those it links to list an alias of it among their Names ("/web/db"): made, renamed.
  if (read) co_await reread_linked(worker, address, host, model, links, timeout);
  co_return read;
}

Task<void> reread_linked(transport::Worker& worker, const transport::Address& address, const std::string& host,
                         ObjectModel& model, const std::vector<std::string>& names, std::chrono::milliseconds timeout) {
  if (names.empty()) co_return;
  std::vector<std::string> ids;
  if (const HostObjects* objects = model.snapshot()->host(host)) {
    for (const auto& name : names) {
      auto it = objects->containers->id_by_name.find(name);
      if (it != objects->containers->id_by_name.end()) ids.push_back(it->second);
    }
  }
  std::vector<Task<bool>> reads;
  for (const auto& id : ids) reads.push_back(reread_one(worker, address, host, model, id, timeout, nullptr));
  co_await transport::gather(std::move(reads));
}

namespace {

// Container events that change nothing `docker ps` shows (a "die", "stop" or "kill" that
// does comes with its own "die").
bool leaves_list_as_is(std::string_view action) {
  static constexpr std::string_view kSame[] = {"attach", "detach", "resize", "top", "export", "commit", "copy",
                                               "archive-path", "extract-to-dir", "kill", "oom", "stop", "exec_"};
  for (auto a : kSame) {
    if (action.starts_with(a)) return true;
  }
  return false;
}

}  // namespace

EventWork apply_events(ObjectModel& model, ExecIndex& execs, const std::string& host,
                       const std::vector<std::string_view>& lines) {
  std::vector<docker::EngineEvent> events;
  EventWork work;
  auto reread = [&](const std::string& id) {
    if (!id.empty() && std::find(work.reread.begin(), work.reread.end(), id) == work.reread.end()) {
      work.reread.push_back(id);
    }
  };
  for (auto line : lines) {
    auto e = docker::parse_event(line);
    if (!e || e->id.empty()) continue;
    if (e->type == "daemon" && e->action == "reload") {
      work.daemon_reloaded = true;
    } else if (e->type == "container" && e->action.starts_with("exec_create")) {
      if (!e->exec_id.empty()) execs.put(e->exec_id, host);
    } else if (e->type == "image") {
      // Tags come and go with pull, tag, untag, load, import, build, commit, delete; the
      // list says what is left. (save and push change nothing.)
      if (e->action != "save" && e->action != "push") work.relists |= kRelistImages;
    } else if (e->type == "network" && e->action == "create") {
      work.relists |= kRelistNetworks;  // the event does not carry the network's scope
    } else if (e->type == "volume" && e->action == "create") {
      work.relists |= kRelistVolumes;  // nor a volume's list entry
      events.push_back(std::move(*e));
    } else if (e->type == "network" && (e->action == "connect" || e->action == "disconnect")) {
      reread(e->container);  // its list entry names its networks
    } else if (e->type == "container" && leaves_list_as_is(e->action)) {
      continue;
    } else if (e->type == "container" || e->type == "volume" || e->type == "network") {
      if (e->type == "container" && e->action != "destroy") reread(e->id);
      if (e->type == "container" && e->action == "destroy") {
        // Those it linked to lose their alias of it ("/web/db") from their Names.
        if (const HostObjects* objects = model.snapshot()->host(host)) {
          auto it = objects->containers->by_id.find(e->id);
          if (it != objects->containers->by_id.end() && it->second.listed) {
            for (const auto& name : it->second.listed->links) {
              auto target = objects->containers->id_by_name.find(name);
              if (target != objects->containers->id_by_name.end()) reread(target->second);
            }
          }
        }
      }
      events.push_back(std::move(*e));
    }
  }
  bool changes = false;
  for (const auto& e : events) {
    changes = changes || e.action == "create" || e.action == "destroy" || e.action == "rename";
  }
  if (!changes) return work;
  model.edit(host, [&](HostEdit& edit) {
    for (const auto& e : events) {
      if (e.type == "container") {
        if (e.action == "create" && !edit.objects().containers->by_id.count(e.id) &&
            !edit.objects().containers->buried(e.id)) {
          edit.containers().put({e.id, host, e.name, e.image, e.time, false, {}, 0, 0});
        } else if (e.action == "destroy") {
          edit.containers().remove(e.id);
          edit.containers().bury(e.id, model.begin_read());  // a read still on its way saw it alive
        } else if (e.action == "rename") {
          edit.containers().rename(e.id, e.name);
        }
      } else if (e.type == "volume") {  // a volume's Actor.ID is its name
        if (e.action == "create") {
          edit.volumes().by_name[e.id] = {e.id, e.driver.empty() ? "local" : e.driver};
        } else if (e.action == "destroy") {
          edit.volumes().by_name.erase(e.id);
        }
      } else if (e.type == "network" && e.action == "destroy") {
        edit.networks().remove(e.id);
      }
    }
  });
  return work;
}

Task<std::vector<std::string>> relist(transport::Worker& worker, const transport::Address& address,
                                      const std::string& host, ObjectModel& model, unsigned what,
                                      std::chrono::milliseconds timeout) {
  std::vector<std::string_view> targets;
  if (what & kRelistImages) targets.push_back("/images/json?all=1");
  if (what & kRelistNetworks) targets.push_back("/networks");
  if (what & kRelistVolumes) targets.push_back("/volumes");
  auto results = co_await fetch(worker, address, targets, timeout);
  std::optional<std::vector<docker::ImageSummary>> images;
  std::optional<std::vector<docker::NetworkSummary>> networks;
  std::optional<std::vector<docker::VolumeSummary>> volumes;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!answered(results[i])) {
      spdlog::warn("host {}: listing {} failed: {}", host, targets[i],
                   results[i].ok() ? std::to_string(results[i].response.result_int()) : results[i].error);
      continue;
    }
    if (targets[i] == "/images/json?all=1") images = docker::parse_image_list(results[i].response.body());
    if (targets[i] == "/networks") networks = docker::parse_network_list(results[i].response.body());
    if (targets[i] == "/volumes") volumes = docker::parse_volume_list(results[i].response.body());
  }
  std::vector<std::string> moved;
  if (!images && !networks && !volumes) co_return moved;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  model.edit(host, [&](HostEdit& edit) {
    if (volumes) {
      auto& t = edit.volumes();
      t = VolumeTable{};
      for (auto& v : *volumes) t.by_name[v.name] = std::move(v);
    }
    if (images) {
      const auto before = edit.objects().images;  // (the table as it was: marks kept where unchanged)
      auto& t = edit.images();
      t = ImageTable{};
      for (auto& i : *images) t.put(std::move(i));
      moved = t.mark_tags(before.get(), now, true);
    }
    if (networks) {
      auto& t = edit.networks();
      t = NetworkTable{};
      for (auto& n : *networks) t.put(std::move(n));
    }
  });
  co_return moved;
}

}  // namespace flocker::flock
