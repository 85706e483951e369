// Test helper: an in-process Docker engine in miniature, for the flock's component tests.
// It keeps containers, images, volumes and networks in memory and speaks enough of the
// Engine API for the proxy's routes, answering as dockerd does where the proxy reads it:
// ping, version, info, container list (dockerd's entries and its id, name, status, label and
// network filters)/create/inspect/start/stop/kill/restart/pause/unpause/logs/rename/delete/exec, exec
// inspect, image list/inspect/pull (with progress)/save/load/tag/remove/build (a tag moves as
// on dockerd, with its LastTagTime), volumes, networks (with the
// predefined bridge, host and none), plugins (none), prune, and a live /events stream.
//
// A create checks what its body refers to as an engine does: a container in VolumesFrom,
// Links or a "container:" mode, a user network, must be on this engine (else 404); a named
// volume that does not exist is created. Image archives (`docker save`) are streamed: a
// header line naming the image, then `archive_size` pattern bytes; `docker load` reads them
// as a stream too and registers the image. Every request is recorded.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

namespace flocker::test {

struct RecordedRequest {
  std::string method, target, body;
  std::map<std::string, std::string> headers;
};

// Multi-host networks: the fakes that join one SharedNetworks see its networks as the
// engines of one swarm (an overlay network is made on a manager; a worker sees it while one
// of its containers uses it, and any container may join an attachable one) or of one
// cluster store (made on any engine, seen by all with one ID). Removing one that a
// container of any engine uses gets dockerd's "has active endpoints".
struct SharedNetworks;
std::shared_ptr<SharedNetworks> make_swarm();
std::shared_ptr<SharedNetworks> make_cluster_store(const std::string& address = "etcd://198.18.0.254:2379");

class FakeDocker {
 public:
  // `port` 0: any free port. A FakeDocker stopped and started again keeps its port and state.
  explicit FakeDocker(std::string name, int port = 0);
  ~FakeDocker();

  std::string address() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& name() const { return name_; }

  void start();
  void stop();  // closes every connection (a crashed engine)

  // State. IDs are made from the name unless given. Like a real engine, it announces the
  // change on its event streams (unless `announce` is false).
  // `created_ns`: its exact creation time (0: within `created`, in the order made).
  std::string add_container(const std::string& name, const std::string& image, int64_t created,
                            const std::string& id = "", bool announce = true, int64_t created_ns = 0);
  // `archive_size`: the payload bytes of its `docker save` archive. Like a build or a
  // `docker tag` on the engine itself: `ref` names the image from now on (its LastTagTime).
  // `created`: the image's creation time, seconds.
  void add_image(const std::string& ref, const std::string& id = "", uint64_t archive_size = 1024,
                 int64_t created = 5);
  // The ID `ref` names here ("" for none).
  std::string image_id(const std::string& ref);
  void add_volume(const std::string& name, const std::string& driver = "local");
  // Returns the network's ID.
  std::string add_network(const std::string& name, const std::string& driver = "bridge");
  bool has_image(const std::string& ref);
  bool has_volume(const std::string& name);
  bool has_network(const std::string& name);
  // Makes it a node of `shared` (a swarm manager or worker; or an engine using the store),
  // as its /info says; null: neither.
  void join(std::shared_ptr<SharedNetworks> shared, bool manager = false);
  // What `docker save` of `ref` streams: its length and checksum (checksum_update).
  struct Archive {
    uint64_t bytes = 0, sum = 0;
  };
  Archive image_archive(const std::string& ref);
  // Every `docker load` body received, as it was read (a stream, never whole).
  std::vector<Archive> loads();
  // dockerd --label, as /info lists them ("key=value"); announced as a daemon "reload" event.
  void set_daemon_labels(std::vector<std::string> labels);
  // A running container publishing `host_port` (announced as its start).
  void publish(const std::string& id_or_name, int host_port);
  // The create body of a container (as the engine received it).
  std::string create_body(const std::string& id_or_name);
  bool has_container(const std::string& id_or_name);
  std::vector<RecordedRequest> requests(const std::string& path_prefix = "");
  // Every /events stream gets this event (a line of JSON).
  void emit_event(const std::string& json);
  int open_event_streams();
  // Whether stop, kill, restart, pause, unpause and rename are announced (die, stop, pause,
  // ...) as dockerd does; off, the proxy learns of them only by reading (start always is).
  void set_state_events(bool on);

  // Faults, as a hung or failing engine shows them.
  // freeze(true): requests are read and none is answered until freeze(false), and event
  // streams fall silent: a SIGSTOPped dockerd, whose kernel still accepts connections.
  void freeze(bool on);
  // Requests whose path (without /vX.Y) starts with `path_prefix` get the fault instead of
  // their answer: kNever holds the connection without answering; kHalf sends a header that
  // promises a body and half of it, then nothing; kReset starts a chunked 200 stream, then
  // resets the connection. kNone removes the fault.
  enum class Fault { kNone, kNever, kHalf, kReset };
  void set_fault(const std::string& path_prefix, Fault fault);

 private:
  struct Impl;
  void serve(boost::asio::ip::tcp::socket& socket);
  void serve_fault(boost::asio::ip::tcp::socket& socket, Fault fault);
  std::unique_ptr<Impl> impl_;
  std::string name_;
  int port_;
};

}  // namespace flocker::test
