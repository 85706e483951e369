#include "flock/model_sync.h"

#include <spdlog/spdlog.h>

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

Task<bool> sync_host(transport::Worker& worker, const transport::Address& address,
                     const std::string& host, ObjectModel& model, std::chrono::milliseconds timeout) {
  auto results = co_await fetch(worker, address, std::vector<std::string_view>(std::begin(kLists), std::end(kLists)),
                                timeout);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (!answered(results[i])) {
      spdlog::debug("host {}: listing {} failed: {}", host, kLists[i],
                    results[i].ok() ? std::to_string(results[i].response.result_int()) : results[i].error);
      co_return false;
    }
  }
  auto containers = docker::parse_container_list(results[0].response.body());
  auto images = docker::parse_image_list(results[1].response.body());
  auto volumes = docker::parse_volume_list(results[2].response.body());
  auto networks = docker::parse_network_list(results[3].response.body());
  if (!containers || !images || !volumes || !networks) {
    spdlog::warn("host {}: a list answer is not the JSON an engine sends; not synced", host);
    co_return false;
  }
  model.replace_host(host, *containers, *images, *volumes, *networks);
  co_return true;
}

unsigned apply_events(ObjectModel& model, ExecIndex& execs, const std::string& host,
                      const std::vector<std::string_view>& lines) {
  std::vector<docker::EngineEvent> events;
  unsigned relists = kRelistNone;
  for (auto line : lines) {
    auto e = docker::parse_event(line);
    if (!e || e->id.empty()) continue;
    if (e->type == "container" && e->action.starts_with("exec_create")) {
      if (!e->exec_id.empty()) execs.put(e->exec_id, host);
    } else if (e->type == "image") {
      // Tags come and go with pull, tag, untag, load, import, build, commit, delete; the
      // list says what is left. (save and push change nothing.)
      if (e->action != "save" && e->action != "push") relists |= kRelistImages;
    } else if (e->type == "network" && e->action == "create") {
      relists |= kRelistNetworks;  // the event does not carry the network's scope
    } else if (e->type == "container" && (e->action == "start" || e->action == "die" || e->action == "pause" ||
                                          e->action == "unpause")) {
      relists |= kRelistContainers;  // its state, and its published ports
    } else if (e->type == "container" || e->type == "volume" || e->type == "network") {
      events.push_back(std::move(*e));
    }
  }
  bool changes = false;
  for (const auto& e : events) {
    changes = changes || e.action == "create" || e.action == "destroy" || e.action == "rename";
  }
  if (!changes) return relists;
  model.edit(host, [&](HostEdit& edit) {
    for (const auto& e : events) {
      if (e.type == "container") {
        if (e.action == "create") {
          edit.containers().put({e.id, host, e.name, e.image, e.time, false, {}, 0, 0});
        } else if (e.action == "destroy") {
          edit.containers().remove(e.id);
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
  return relists;
}

Task<void> relist(transport::Worker& worker, const transport::Address& address, const std::string& host,
                  ObjectModel& model, unsigned what, std::chrono::milliseconds timeout) {
  std::vector<std::string_view> targets;
  if (what & kRelistImages) targets.push_back("/images/json?all=1");
  if (what & kRelistNetworks) targets.push_back("/networks");
  if (what & kRelistContainers) targets.push_back("/containers/json?all=1");
  auto results = co_await fetch(worker, address, targets, timeout);
  std::optional<std::vector<docker::ImageSummary>> images;
  std::optional<std::vector<docker::NetworkSummary>> networks;
  std::optional<std::vector<docker::ContainerSummary>> containers;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!answered(results[i])) {
      spdlog::warn("host {}: listing {} failed: {}", host, targets[i],
                   results[i].ok() ? std::to_string(results[i].response.result_int()) : results[i].error);
      continue;
    }
    if (targets[i] == "/images/json?all=1") images = docker::parse_image_list(results[i].response.body());
    if (targets[i] == "/networks") networks = docker::parse_network_list(results[i].response.body());
    if (targets[i] == "/containers/json?all=1") containers = docker::parse_container_list(results[i].response.body());
  }
  if (!images && !networks && !containers) co_return;
  model.edit(host, [&](HostEdit& edit) {
    if (containers) {
      const auto before = edit.objects().containers;  // (held: the limits it knew)
      edit.containers() = ContainerTable::from_list(host, *containers, before.get());
    }
    if (images) {
      auto& t = edit.images();
      t = ImageTable{};
      for (auto& i : *images) t.put(std::move(i));
    }
    if (networks) {
      auto& t = edit.networks();
      t = NetworkTable{};
      for (auto& n : *networks) t.put(std::move(n));
    }
  });
}

}  // namespace flocker::flock
