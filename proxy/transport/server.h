// The proxy's front: listeners (tcp and unix, bound here or handed over by systemd), a pool
// of I/O threads each running its own io_context (a connection lives on one thread for its
// whole life: no locks on the data path), and graceful shutdown.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "address.h"
#include "handler.h"
#include "session.h"
#include "tls.h"
#include "upstream_pool.h"
#include "worker.h"

namespace flocker::transport {

struct ServerOptions {
  std::vector<std::string> listen;  // tcp://HOST:PORT, unix:///path, fd://, fd://N
  unsigned threads = 0;             // 0: one per core
  unsigned unix_mode = 0660;        // permissions of unix sockets
  std::string unix_group;           // group of unix sockets ("" = unchanged)
  SessionOptions session;
  // TLS on every tcp listener (unix sockets stay plain, guarded by their permissions).
  std::shared_ptr<TlsContext> tls;
  std::chrono::milliseconds tls_handshake_timeout{std::chrono::seconds(10)};
  PoolOptions pool;
  // On shutdown, how long open streams and hijacked sessions may go on before being closed.
  std::chrono::milliseconds grace{std::chrono::seconds(10)};
};

class Server {
 public:
  Server(ServerOptions options, Handler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener (or takes it from systemd: fd://) and starts the threads. Throws
  // std::runtime_error on failure.
  void start();
  // The addresses bound (with real ports where 0 was asked).
  const std::vector<Address>& bound() const { return bound_; }
  // Stops accepting; idle connections close now, busy ones when their request ends or when
  // the grace period is over. Returns at once; wait() for the end.
  void shutdown();
  void wait();

  std::size_t worker_count() const { return workers_.size(); }
  Worker& worker(std::size_t i) { return *workers_[i]; }

 private:
  void open_listener(Address address);
  void adopt_listener(int fd);
  void serve(std::unique_ptr<Acceptor> acceptor, Address address);
  Task<void> accept_loop(Acceptor& acceptor, Address address);
  Task<void> drain(Worker& worker);
  Task<void> accept_tls(Worker& worker, Socket client, Peer peer);

  ServerOptions options_;
  Handler& handler_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::vector<Address> bound_;
  std::vector<std::thread> threads_;
  std::size_t next_worker_ = 0;
  std::once_flag shutdown_once_;
  bool started_ = false;
};

}  // namespace flocker::transport
