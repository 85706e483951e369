// Test helper: an in-process Docker engine in miniature, for the flock's component tests.
// It keeps containers and images in memory and speaks enough of the Engine API for the
// proxy's routes: ping, version, info, container list/create/inspect/start/logs/rename/
// delete/exec, exec inspect, image list/inspect/pull (with progress), volumes, networks,
// prune, and a live /events stream. Every request is recorded.
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
  std::string add_container(const std::string& name, const std::string& image, int64_t created,
                            const std::string& id = "", bool announce = true);
  void add_image(const std::string& ref, const std::string& id = "");
  bool has_container(const std::string& id_or_name);
  std::vector<RecordedRequest> requests(const std::string& path_prefix = "");
  // Every /events stream gets this event (a line of JSON).
  void emit_event(const std::string& json);
  int open_event_streams();

 private:
  struct Impl;
  void serve(boost::asio::ip::tcp::socket& socket);
  std::unique_ptr<Impl> impl_;
  std::string name_;
  int port_;
};

}  // namespace flocker::test
