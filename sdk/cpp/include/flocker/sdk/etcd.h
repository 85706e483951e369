// A small etcd v3 client over etcd's own gRPC API (proto/etcd/etcd_v3.proto): what flocker
// keeps in etcd is shared by every proxy and decider of a flock.
//
// - Client: the channel to the cluster's members and their stubs; synchronous helpers for
//   threads of their own (never an I/O thread).
// - Session: a lease kept alive from a thread of its own. Keys put under it vanish when the
//   process dies or loses etcd for longer than the TTL.
// - Mirror: a key prefix copied locally and kept current through a watch, so that reads
//   cost no round trip.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "etcd/etcd_v3.grpc.pb.h"

namespace flocker::etcd {

struct Options {
  // The members' client addresses, HOST:PORT. Several: requests go round-robin to the
  // members that answer, so one member down changes nothing. Several endpoints must be IP
  // addresses (gRPC's ipv4:/ipv6: targets); a single one may be a name.
  std::vector<std::string> endpoints;
  // TLS (PEM text): with a CA the members' certificates are checked against it; with a
  // certificate and key the client proves who it is (etcd's --client-cert-auth).
  bool tls = false;
  std::string ca_pem, cert_pem, key_pem;
  std::string server_name;  // the name checked in the members' certificates, if not the host
  // How long one call may take. A cluster without quorum answers nothing: calls end here.
  std::chrono::milliseconds timeout{2000};
};

// "etcd://H:P,H:P" (or "etcds://", or no scheme) -> {"H:P", "H:P"}. A missing port is 2379.
// Throws std::invalid_argument with a message for the user.
std::vector<std::string> parse_endpoints(std::string_view text);

// The end of the key range holding every key that starts with `prefix` (etcd's range_end).
std::string prefix_end(std::string_view prefix);

class Client {
 public:
  explicit Client(Options options);

  const Options& options() const { return options_; }
  // "etcd (127.0.0.1:2379,127.0.0.1:2381)", for messages.
  const std::string& name() const { return name_; }

  etcdserverpb::KV::Stub& kv() { return *kv_; }
  etcdserverpb::Lease::Stub& lease() { return *lease_; }
  etcdserverpb::Watch::Stub& watch() { return *watch_; }
  // Sets the call's deadline to now + options().timeout, waiting for a member meanwhile.
  void set_deadline(grpc::ClientContext& context) const;
  // The call waits for a connection to a member instead of failing at once.
  static void wait_for_members(grpc::ClientContext& context);

  // Synchronous helpers (block up to the timeout).
  grpc::Status range_prefix(const std::string& prefix, std::map<std::string, std::string>& out,
                            int64_t& revision);
  grpc::Status put(const std::string& key, const std::string& value, int64_t lease = 0);
  grpc::Status grant(std::chrono::seconds ttl, int64_t& lease);

 private:
  Options options_;
  std::string name_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
};

// A lease, granted and kept alive by a thread of its own (a keep-alive every
// min(TTL/3, 1 s)). When etcd cannot be reached the lease is granted again once it can; the
// keys under the old one are gone by then.
class Session {
 public:
  Session(Client& client, std::chrono::seconds ttl);
  ~Session();  // revokes the lease: what it held goes at once
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The lease, or 0 while none is held.
  int64_t lease() const { return lease_.load(); }
  // The last keep-alive (or grant) succeeded: etcd answers and has quorum.
  bool alive() const { return alive_.load(); }
  // Alive and holding a lease: keys can be put under lease() now.
  bool holds_lease() const { return alive() && lease() != 0; }
  // Why not, for messages ("" while alive).
  std::string problem() const;
  // Try etcd again now rather than after the pause between failed tries: someone waits for
  // the lease (a claim made just as etcd comes back).
  void nudge();

 private:
  void run();
  bool keep_alive(int64_t lease);
  void set_problem(std::string why);

  Client& client_;
  const std::chrono::seconds ttl_;
  std::atomic<int64_t> lease_{0};
  std::atomic<bool> alive_{false};
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool nudged_ = false;
  std::string problem_ = "not connected yet";
  std::thread thread_;
};

// Every key under a prefix, copied here and kept current through a watch (a thread of its
// own). After a broken stream it reads the prefix again and watches from there.
class Mirror {
 public:
  // Called on the mirror's thread with the whole content after each change (keys whole,
  // prefix included). Keep it short; it may call back into etcd.
  using OnChange = std::function<void(const std::map<std::string, std::string>&)>;

  Mirror(Client& client, std::string prefix, OnChange on_change = {});
  ~Mirror();
  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;

  std::optional<std::string> get(const std::string& key) const;
  std::map<std::string, std::string> snapshot() const;
  // The prefix has been read at least once.
  bool synced() const { return synced_.load(); }

 private:
  void run();
  bool sleep(std::chrono::milliseconds d);  // false when stopping

  Client& client_;
  const std::string prefix_;
  OnChange on_change_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* stream_context_ = nullptr;  // the open watch, cancelled by ~Mirror
  std::map<std::string, std::string> content_;
  std::atomic<bool> synced_{false};
  std::thread thread_;
};

}  // namespace flocker::etcd
