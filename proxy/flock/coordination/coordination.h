// What must be unique across several proxies of one flock, decided in etcd
// (--coordination etcd://...) rather than in one proxy's memory:
//   PREFIX/names/NAME              a container name being created or renamed to: created
//                                  only if absent (a transaction), under this proxy's lease,
//                                  deleted when the create ends. A proxy that dies holds it
//                                  no longer than the lease's TTL.
//   PREFIX/placed/NAME             the host that create (or rename) was sent to, under a
//                                  longer lease (the engines' answer timeout): a proxy that
//                                  died left a create the engine may still finish, so the
//                                  next create of the name goes to that host, whose engine
//                                  lets only one of them have it.
//   PREFIX/pins/CLIENT/IMAGE       where `docker run`'s pull and second create must go after
//                                  a create answered "No such image" (flock/coordination/pull_pins.h),
//                                  under a lease of its own with the pin's TTL; read from a
//                                  local mirror (a watch), so creates pay no round trip.
//   PREFIX/inventory/generation    moved by a decider whose hosts live in etcd
//                                  (flocker-decider --hosts-etcd): every proxy asks List again
//                                  at once.
// etcd down or without quorum: claims answer kUnavailable, and available() says so, so that
// creates and renames fail closed. A claim made while the lease is being granted again waits
// for it up to the etcd timeout (etcd just back: a new leader, then a new lease), rather than
// refuse a create a moment before this proxy would take it; nothing else here waits for etcd.
#pragma once

#include <flocker/sdk/etcd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "transport/net.h"

namespace flocker::flock {

struct CoordinationOptions {
  etcd::Options etcd;
  std::string prefix = "/flocker/";  // ends with '/'
  std::chrono::seconds ttl{10};      // of this proxy's lease
  // Of the lease under placed/ keys: at least as long as an engine may take to answer a
  // create (--engine-answer-timeout), so that a dead proxy's create cannot outlive it.
  std::chrono::seconds placement_ttl{70};
};

enum class Claim { kReserved, kTaken, kUnavailable };

struct ClaimResult {
  Claim claim = Claim::kUnavailable;
  std::string value;    // kReserved: what the key holds (for the release)
  // kReserved: the host a proxy that stopped mid-create sent this name to ("" if none):
  // the create must go there too.
  std::string placed_host;
  std::string message;  // kTaken: who holds it; kUnavailable: why
};

class Coordination {
 public:
  // `instance`: this proxy process's ID (FlockOptions::proxy_instance), put in what it holds.
  Coordination(CoordinationOptions options, std::string instance);
  ~Coordination();
  // Ends the watches (no more callbacks) and revokes the lease: this proxy's reservations
  // go at once. Idempotent.
  void stop();
  Coordination(const Coordination&) = delete;
  Coordination& operator=(const Coordination&) = delete;

  // The lease and the watches start; `inventory_moved` runs (on a thread of etcd's) each
  // time the inventory's generation changes.
  void start(std::function<void()> inventory_moved);

  const std::string& name() const { return client_.name(); }
  // The lease is alive: etcd answers, with quorum.
  bool available() const;
  // Docker-style message for a create or rename refused while etcd is not available.
  std::string unavailable_message(const std::string& why = "") const;

  // Reserves `name` flock-wide for one create or rename (request_id says which).
  transport::Task<ClaimResult> claim_name(const std::string& name, const std::string& request_id);
  // Records, before the engine is asked, the host a reserved name's create or rename goes
  // to. False (etcd unavailable): the create must not go on.
  transport::Task<bool> place_name(const std::string& name, const std::string& host);
  // Deletes the reservation (and its placement) if it still holds `value`; retried in the
  // background until etcd answers (or the lease that held it is gone).
  void release_name(const std::string& name, const std::string& value);

  void pin(const std::string& client, const std::string& image, const std::string& host,
           std::chrono::seconds ttl);
  std::optional<std::string> pinned(const std::string& client, const std::string& image) const;
  void unpin(const std::string& client, const std::string& image);

 private:
  struct Write {
    std::function<bool()> attempt;  // true: done (or pointless to retry)
    std::string what;               // for the log
  };
  std::string name_key(const std::string& name) const;
  std::string placed_key(const std::string& name) const;
  std::string pin_key(const std::string& client, const std::string& image) const;
  // Until `session` holds a lease etcd keeps alive (true) or `deadline` passes (false),
  // without blocking the I/O thread.
  static transport::Task<bool> session_ready(etcd::Session& session,
                                             std::chrono::system_clock::time_point deadline);
  void enqueue(Write write);
  void writer();

  const CoordinationOptions options_;
  const std::string instance_;
  etcd::Client client_;
  std::unique_ptr<etcd::Session> session_;
  std::unique_ptr<etcd::Session> placement_session_;
  std::unique_ptr<etcd::Mirror> pins_;
  std::unique_ptr<etcd::Mirror> generation_;

  std::mutex mu_;  // the writer's queue
  std::condition_variable wake_;
  std::deque<Write> writes_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace flocker::flock
