// The flock's Docker API: each request routed as the route table says — to the owner of the
// object, to every host and merged, or where the decider decides — or refused.
#pragma once

#include <atomic>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "docker/create_refs.h"
#include "docker/merge.h"
#include "docker/route_table.h"
#include "flock/flock.h"
#include "flock/routes/handler_support.h"
#include "flock/control/placement.h"
#include "transport/gather.h"
#include "transport/handler.h"

namespace flocker::flock {

class GuardHandler;

class FlockHandler : public transport::Handler {
 public:
  explicit FlockHandler(Flock& flock) : flock_(flock) {}

  Task<void> handle(Exchange& ex) override;
  http::response<http::string_body> render_error(http::status status,
                                                 std::string_view message) const override;

  // The gate in front of this handler, asked again about a create body RemapContainer changed.
  void set_guard(const GuardHandler* guard) { guard_ = guard; }

 private:
  using Merge = std::string (*)(const std::vector<docker::HostBody>&);

  Task<void> dispatch(Exchange& ex, const docker::Route& route);
  // How long an engine may take to start answering this client request (docker::answer_deadline).
  std::chrono::milliseconds answer_timeout(Exchange& ex) const;
  // Which lists (model_sync's Relist bits) a request may change on the hosts it reaches.
  static unsigned lists_changed_by(http::verb method, const docker::Route& route);
  // Those lists of the hosts the request reached, read again into the model; the tags that
  // moved there brought in line on every host.
  Task<void> relist_touched(Exchange& ex, unsigned lists);
  // Waits (within the engine timeout) until the image changes through this proxy that have
  // answered are in the model, their tags in line: before a name is resolved to an image.
  Task<void> images_settled(Exchange& ex);

  // views.cc: answered from every host
  Task<void> ping(Exchange& ex);
  Task<void> version(Exchange& ex);
  Task<void> info(Exchange& ex);
  Task<void> list_containers(Exchange& ex, const docker::Route& route);
  // A container's creation time to the nanosecond: from its inspect when the model has read
  // it, else its list's second.
  static int64_t exact_created(const ContainerRecord& c);
  // The same, asked of its host (0 when it does not say).
  // (`id` by value: the call may be started after the caller's temporary is gone.)
  Task<int64_t> created_ns_on(Exchange& ex, const HostState& host, std::string id);
  Task<void> merged(Exchange& ex, const docker::Route& route, Merge merge);
  // GET /images/json, /volumes, /networks answered from the model: each host's body as its
  // engine would answer; nullopt when the model cannot (filters, a host not synced, a change
  // through the proxy still being read back, a live read asked for).
  std::optional<std::vector<docker::HostBody>> lists_from_model(Exchange& ex, const docker::Route& route,
                                                               const std::vector<const HostState*>& targets);
  Task<void> events(Exchange& ex, const docker::Route& route);

  // owned.cc: to the owner of an object
  Task<void> container(Exchange& ex, const docker::Route& route);
  Task<void> exec(Exchange& ex, const docker::Route& route);
  Task<void> image(Exchange& ex, const docker::Route& route);
  Task<void> image_get_many(Exchange& ex, const docker::Route& route);
  Task<void> commit(Exchange& ex, const docker::Route& route);
  Task<void> network(Exchange& ex, const docker::Route& route);
  Task<void> network_connect(Exchange& ex, const docker::Route& route, const HostsSnapshot& hosts);
  Task<void> volume(Exchange& ex, const docker::Route& route);
  Task<void> plugin(Exchange& ex, const docker::Route& route);
  Task<void> swarm(Exchange& ex);
  Task<void> any_host(Exchange& ex);
  // Refused endpoints: joining a swarm, installing plugins, BuildKit sessions.
  Task<void> refuse(Exchange& ex, const docker::Route& route);
  // A request no host can act on (an object none has, a body none can read), answered by
  // a healthy host as an engine without that object answers it: docker's own status and
  // words, in the engine's own order of checks. `body`: the body, when already read.
  Task<void> answer_as_engine(Exchange& ex, const HostsSnapshot& hosts, const std::string* body = nullptr);
  // Reads a JSON request body; when Go's decoder cannot read it, the engine answers (it reads
  // bodies before it looks objects up) and true is returned. Else `body` holds it.
  Task<bool> malformed_body(Exchange& ex, const HostsSnapshot& hosts, std::optional<std::string>& body);
  // A host that did not answer a lookup, and why: it may hold what was not found elsewhere.
  struct HostFailure {
    const HostState* host = nullptr;
    std::string why;
  };
  // Where a container is, from the object model, else by asking every healthy host (one
  // made on an engine a moment ago). Responds nothing. `unanswered`: the first host that did
  // not answer, if any (then "not found" is not known: the owner's answer is a 502).
  Task<ModelSnapshot::ContainerLookup> locate_container(Exchange& ex, const HostsSnapshot& hosts,
                                                        const std::string& ref,
                                                        HostFailure* unanswered = nullptr);
  // The owner of a container reference; responds (an engine's 404, ambiguous, host down)
  // when none. `body`: the request body when already read.
  Task<std::optional<std::pair<ContainerRecord, const HostState*>>> owner_of(
      Exchange& ex, const HostsSnapshot& hosts, const std::string& ref, const std::string* body = nullptr);
  // The hosts holding an object: those the object model names, and of the healthy hosts it
  // does not know fully yet (resyncing), those where GET `path` answers 200. Healthy hosts
  // first; an unhealthy holder still holds it (its data is there).
  Task<std::vector<const HostState*>> holders(Exchange& ex, const HostsSnapshot& hosts,
                                              const std::vector<std::string>& known,
                                              const std::string& path);
  // Those of `hosts` that know an object: GET `path` answers 200.
  Task<std::vector<const HostState*>> hosts_answering(Exchange& ex,
                                                     const std::vector<const HostState*>& hosts,
                                                     const std::string& path);
  // The hosts where `name` names the flock's image (a tag: its newest); `any_copy`: every
  // host where it names an image, older or not.
  Task<std::vector<const HostState*>> hosts_with_image(Exchange& ex, const HostsSnapshot& hosts,
                                                      const std::string& name, bool any_copy = false);
  Task<std::vector<const HostState*>> volume_hosts(Exchange& ex, const HostsSnapshot& hosts,
                                                   const std::string& name);
  Task<std::vector<const HostState*>> network_hosts(Exchange& ex, const HostsSnapshot& hosts,
                                                    const std::string& ref);
  // Every answer of a fan-out as a HostBody; hosts that failed are left out (logged, and added to `left`). When an
  // engine refused the request, its answer is the response and nullopt is returned.
  Task<std::optional<std::vector<docker::HostBody>>> collect_bodies(Exchange& ex, std::vector<HostReply> replies,
                                                                    LeftOut& left);

  // decided.cc: placed by the decider
  Task<void> create_container(Exchange& ex, const docker::Route& route);
  Task<void> create_image(Exchange& ex, const docker::Route& route);
  Task<void> decided_stream(Exchange& ex, const docker::Route& route, v1::OperationKind kind,
                            std::string image);
  Task<void> create_named(Exchange& ex, const docker::Route& route, v1::OperationKind kind);
  // Route; on any failure responds and returns no host. `allowed`: the only hosts that may
  // be chosen (a container's requirements); null for any.
  Task<std::vector<const HostState*>> decide(Exchange& ex, const HostsSnapshot& hosts,
                                             v1::RouteRequest& request,
                                             const std::set<std::string>* allowed = nullptr);
  // Who has `name`: the model's container, or another create holding it (here or, with
  // --coordination, in etcd); "" when this request now holds it. nullopt when it responded
  // (503: etcd unavailable).
  Task<std::optional<std::string>> name_holder(Exchange& ex, NameReservations& names, const std::string& name);
  // The container that has `name` on some host, asking every host.
  Task<std::optional<ContainerRecord>> name_owner(Exchange& ex, const HostsSnapshot& hosts,
                                                  const std::string& name);
  // RemapContainer; may change body and name; false when it responded (refused).
  Task<bool> remap(Exchange& ex, const HostState& host, const std::string& image,
                   std::string& body, std::string& name, NameReservations& names);
  // RegistryAuth, when the client sent no credentials.
  Task<void> fill_registry_auth(Exchange& ex, const std::string& image, const HostState& host);
  // Streams the same request to several hosts and merges their progress.
  Task<void> forward_progress(Exchange& ex, const std::vector<const HostState*>& hosts);

  // build.cc: docker build, where its images are.
  struct BuildImage {
    std::string ref;
    std::string field;  // "cachefrom" or "FROM"
  };
  Task<void> build(Exchange& ex, const docker::Route& route);
  // The images a build uses: its cachefrom, and its Dockerfile's (read ahead in the body).
  Task<std::vector<BuildImage>> build_images(Exchange& ex, const docker::Route& route);

  // buildkit.cc: BuildKit's /grpc and /session, relayed to the engine the client's
  // BuildKit connections are pinned to; the older CLI's /build?version=2; /build/cancel.
  Task<void> buildkit(Exchange& ex, const docker::Route& route);
  Task<void> build_with_session(Exchange& ex, const docker::Route& route);
  Task<void> build_cancel(Exchange& ex, const docker::Route& route);
  // Where a BuildKit connection goes: the host of `session` or the client's pin, else the
  // decider's (Route IMAGE_BUILD with cache_host); `hold` then keeps the client pinned there.
  // Responds and returns null when none.
  Task<const HostState*> buildkit_host(Exchange& ex, const HostsSnapshot& hosts, const std::string& session,
                                       const std::string& shared_key, const std::string& image,
                                       std::optional<BuildKitPins::Hold>& hold);

  // requirements.cc: what a container create refers to, and where that is. Responds
  // (409 conflict, 503 holders down) and returns nullopt when it cannot be placed.
  // `follow_locks`: held for a network that follows the container, until its create ends.
  Task<std::optional<Placement>> place_container(Exchange& ex, const HostsSnapshot& hosts,
                                                 const docker::CreateRefs& refs,
                                                 std::list<KeyedLock::Held>& follow_locks);

  // image_copy.cc: an image the chosen host lacks, copied from a host that has it
  // (streamed: saved there, loaded here). Failing is not fatal: the create then answers
  // "No such image" and docker run pulls. But a host that would run an older image than
  // the tag names elsewhere is refused (503): false, responded.
  Task<bool> bring_image(Exchange& ex, const HostsSnapshot& hosts, const HostState& target,
                         const std::string& image);
  // False (and a 503) when `target` still names the tag `ref` with an older image.
  Task<bool> not_stale(Exchange& ex, const HostState& target, const ImageRef& ref);

  // The container's list entry read again from its host into the model (gone: removed);
  // false when the host did not answer.
  Task<bool> reread_container(Exchange& ex, const HostState& host, const std::string& id);

  // network_follow.cc: an unused local network follows its first container.
  // The network's ID on `holder`, from the model (else `ref` itself).
  std::string network_id(const HostState& holder, const std::string& ref) const;
  // Whether network `ref` (on the hosts `have`, with ID `id`) follows this create: a local
  // bridge network named by its name, on one host, that no container uses. Decided under
  // its lock, which it keeps in `locks` when it follows (released otherwise); `have` and
  // `id` are read again once the lock is held (the create before may have moved it).
  Task<bool> network_follows(Exchange& ex, const HostsSnapshot& hosts, const std::string& ref,
                             std::vector<const HostState*>& have, std::string& id,
                             std::list<KeyedLock::Held>& locks);
  // Whether no container (created or running) on `holder` uses the network.
  Task<bool> network_unused(Exchange& ex, const HostState& holder, const std::string& name,
                            const std::string& id);
  // Every requirement that follows and is not on `target`, moved there; false when one could
  // not be (it responded).
  Task<bool> bring_networks(Exchange& ex, const HostsSnapshot& hosts,
                            const google::protobuf::RepeatedPtrField<v1::Requirement>& requirements,
                            const HostState& target);
  // The network `id` (named `name`) re-created on `target` and removed from `from`; its new
  // ID, with the old one kept as its alias. nullopt when it could not be made there.
  Task<std::optional<std::string>> move_network(Exchange& ex, const HostState& from, const std::string& id,
                                                const std::string& name, const HostState& target);
  // The network's name on `holder`, from the model (else `ref` itself).
  std::string network_name(const HostState& holder, const std::string& ref) const;

  // multihost_networks.cc: networks that span hosts (a swarm's, a cluster store's).
  // The spanning network `ref` names in the model (on any host), if any.
  std::optional<docker::NetworkSummary> spanning_network(const std::string& ref) const;
  // POST /networks/create of a multi-host network: once, on a swarm manager or one of the
  // store's hosts, attachable, with a subnet from --network-pool when the body names none.
  Task<void> create_multihost_network(Exchange& ex, const FlockNetworks& facility, const std::string& body,
                                      const std::string& name);
  // Until `host` answers for network `id` as one engine would right after its create
  // (allocated: a Driver) or removal (`gone`: 404); within the engine timeout.
  Task<void> network_settled(Exchange& ex, const HostState& host, const std::string& id, bool gone);
  // Whether any of `hosts` has a container of its own on network `id` (or did not say).
  Task<bool> network_in_use(Exchange& ex, const std::vector<const HostState*>& hosts, const std::string& id);
  // A free subnet of --network-pool, overlapping none of `used`, the model's networks' and
  // those handed out a moment ago; held a while ("" without a pool; nullopt: it is full).
  std::optional<std::string> take_subnet(std::vector<docker::Cidr> used);
  // GET (one inspect listing the containers of every host) and DELETE (once) of one.
  Task<void> spanning_network_request(Exchange& ex, const docker::Route& route, const HostsSnapshot& hosts,
                                      const docker::NetworkSummary& n);

  Flock& flock_;
  const GuardHandler* guard_ = nullptr;
  std::mutex subnets_mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> subnets_taken_;  // by take_subnet
  std::atomic<uint64_t> any_host_turn_{0};
};

}  // namespace flocker::flock
