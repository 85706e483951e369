// Which engine a client's BuildKit connections go to.
//
// BuildKit (today's `docker build`: buildx's docker driver) builds over two connections that
// the client upgrades to h2c: POST /grpc, BuildKit's control API (ListWorkers, Solve,
// Status, ...), and POST /session, over which the engine calls the client back for the
// context, secrets, SSH and registry credentials. A Solve names its session by ID and finds
// it only on the engine that holds that session's connection, so both must reach the same
// engine. Neither upgrade says which build it is for (the session's ID is inside the Solve,
// an HTTP/2 stream the proxy relays untouched), and a client opens them within a millisecond
// of each other, in either order.
//
// So every BuildKit connection of one client goes to the engine the first one went to, for
// as long as one of them is open and a few seconds after (buildx probes /grpc, closes it,
// and dials again): a client's concurrent builds share an engine, each with its own session
// there. The older CLI's POST /build?version=2&session=ID names its session, which goes
// where that build went. The host each build context (the session's shared key) was last
// built on, else the host the client built on in the last ten minutes, is the next build's
// Route.cache_host: a rebuild goes where its cache is; a client's first builds spread.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace flocker::flock {

class BuildKitPins {
 public:
  using Clock = std::chrono::steady_clock;
  explicit BuildKitPins(std::chrono::milliseconds linger = std::chrono::seconds(5)) : linger_(linger) {}

  // A client's connection counted as open on its host until destroyed.
  class Hold {
   public:
    Hold(BuildKitPins* pins, std::string client) : pins_(pins), client_(std::move(client)) {}
    Hold(Hold&& other) noexcept : pins_(other.pins_), client_(std::move(other.client_)) { other.pins_ = nullptr; }
    Hold& operator=(Hold&&) = delete;
    ~Hold();

   private:
    BuildKitPins* pins_;
    std::string client_;
  };

  // Where `client`'s BuildKit connections go now: the host of session `session` when a build
  // named it, else the client's pin while it holds. nullopt: decide.
  std::optional<std::string> pinned(const std::string& client, const std::string& session = {});
  // `client` has a connection open on `host` (pinning it there); `session` (if any) goes
  // there too, and `shared_key` (a session's build context) was built there.
  Hold hold(const std::string& client, const std::string& host, const std::string& session = {},
            const std::string& shared_key = {});
  // Where `shared_key`'s context was last built, else where `client` last built.
  std::string cache_host(const std::string& client, const std::string& shared_key) const;
  // A BuildKit build of the older CLI (POST /build?version=2&buildid=ID): its cancel goes there.
  void remember_build(const std::string& build_id, const std::string& host);
  std::optional<std::string> build_host(const std::string& build_id) const;

 private:
  struct Pin {
    std::string host;
    int open = 0;
    Clock::time_point released{};
  };
  void release(const std::string& client);
  // A small memory: the newest `kRemembered` entries, each with when it was put.
  class Recent {
   public:
    void put(const std::string& key, const std::string& value);
    // nullptr when not known, or put longer than `max_age` ago.
    const std::string* get(const std::string& key, std::chrono::seconds max_age = std::chrono::hours(24)) const;

   private:
    struct Entry {
      std::string key, value;
      Clock::time_point at;
    };
    std::list<Entry> order_;  // newest first
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  };

  const std::chrono::milliseconds linger_;
  mutable std::mutex mu_;
  std::map<std::string, Pin> pins_;   // by client
  Recent sessions_, last_by_client_, last_by_context_, builds_;
};

}  // namespace flocker::flock
