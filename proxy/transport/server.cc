#include "server.h"

#include <fcntl.h>
#include <grp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>

namespace flocker::transport {
namespace {

std::string peer_of(Socket& socket) {
  error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  const sockaddr* sa = ep.data();
  if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
    asio::ip::tcp::endpoint tcp;
    std::memcpy(tcp.data(), sa, ep.size());
    tcp.resize(ep.size());
    return (sa->sa_family == AF_INET6 ? "[" + tcp.address().to_string() + "]"
                                      : tcp.address().to_string()) +
           ":" + std::to_string(tcp.port());
  }
  return "unix";
}

// The address actually bound, for listeners asked on port 0.
Address bound_address(const Address& asked, Acceptor& acceptor) {
  if (asked.is_unix) return asked;
  Address out = asked;
  out.endpoint = acceptor.local_endpoint();
  asio::ip::tcp::endpoint tcp;
  std::memcpy(tcp.data(), out.endpoint.data(), out.endpoint.size());
  tcp.resize(out.endpoint.size());
  out.text = "tcp://" + tcp.address().to_string() + ":" + std::to_string(tcp.port());
  return out;
}

void prepare_unix_path(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw std::runtime_error(path + " exists and is not a socket");
    ::unlink(path.c_str());  // a stale socket from an earlier run, as dockerd does
  }
}

void set_unix_permissions(const std::string& path, unsigned mode, const std::string& group) {
  if (::chmod(path.c_str(), mode) != 0) {
    throw std::runtime_error("cannot chmod " + path + ": " + std::strerror(errno));
  }
  if (group.empty()) return;
  struct group* g = ::getgrnam(group.c_str());
  if (!g) throw std::runtime_error("unknown group '" + group + "' for " + path);
  if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
    throw std::runtime_error("cannot chown " + path + ": " + std::strerror(errno));
  }
}

// The listening sockets a service manager passed, by systemd's protocol (sd_listen_fds(3)):
// LISTEN_PID names this process, LISTEN_FDS=n, the sockets are descriptors 3 .. 3+n-1. Read
// at the first fd:// address only; each socket serves one listen address.
class PassedSockets {
 public:
  // The sockets `which` names, taken; throws std::runtime_error when there are none.
  std::vector<int> take(const FdListen& which, const std::string& text) {
    load();
    std::vector<int> out;
    for (int fd : passed_) {
      if ((!which.fd || *which.fd == fd) && taken_.insert(fd).second) out.push_back(fd);
    }
    if (out.empty()) throw std::runtime_error("cannot listen on " + text + ": " + why_none(which));
    return out;
  }

 private:
  void load() {
    if (loaded_) return;
    loaded_ = true;
    const char* pid = std::getenv("LISTEN_PID");
    const char* count = std::getenv("LISTEN_FDS");
    if (pid && count && number(pid) == ::getpid()) {
      const long n = number(count);
      for (int fd = 3; n > 0 && fd < 3 + n; ++fd) {
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // ours alone, not a child's
        passed_.push_back(fd);
      }
    } else if (pid) {
      not_ours_ = pid;
    }
    // Taken: a process we start must not believe the sockets were passed to it.
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
  }

  static long number(const char* text) {
    long value = -1;
    const char* end = text + std::strlen(text);
    auto [stop, ec] = std::from_chars(text, end, value);
    return ec == std::errc() && stop == end ? value : -1;
  }

  std::string why_none(const FdListen& which) const {
    if (!not_ours_.empty()) {
      return "the sockets were passed to process " + not_ours_ + ", not to this one (" +
             std::to_string(::getpid()) + ")";
    }
    if (passed_.empty()) {
      return "no sockets were passed (LISTEN_FDS): start it from a systemd .socket unit or "
             "with systemd-socket-activate";
    }
    if (which.fd && taken_.count(*which.fd)) {
      return "fd " + std::to_string(*which.fd) + " is already listed";
    }
    if (which.fd) {
      return "fd " + std::to_string(*which.fd) + " was not passed (the sockets are fds 3.." +
             std::to_string(2 + passed_.size()) + ")";
    }
    return "every socket passed is already listed";
  }

  bool loaded_ = false;
  std::vector<int> passed_;
  std::set<int> taken_;
  std::string not_ours_;  // LISTEN_PID, when it names another process
};

}  // namespace

Server::Server(ServerOptions options, Handler& handler)
    : options_(std::move(options)), handler_(handler) {
  unsigned n = options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, options_.pool));
    guards_.push_back(asio::make_work_guard(workers_.back()->context()));
  }
}

Server::~Server() {
  shutdown();
  wait();
}

void Server::start() {
  PassedSockets passed;
  for (const auto& text : options_.listen) {
    if (auto which = parse_fd_listen(text)) {
      for (int fd : passed.take(*which, text)) adopt_listener(fd);
    } else {
      open_listener(resolve_address(text, /*listening=*/true));
    }
  }
  for (auto& w : workers_) {
    threads_.emplace_back([&ctx = w->context()] { ctx.run(); });
  }
  started_ = true;
}

void Server::open_listener(Address address) {
  auto acceptor = std::make_unique<Acceptor>(workers_[0]->context());
  error_code ec;
  if (address.is_unix) prepare_unix_path(address.unix_path);
  acceptor->open(address.endpoint.protocol(), ec);
  if (!ec && !address.is_unix) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(address.endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + address.text + ": " + ec.message());
  if (address.is_unix) set_unix_permissions(address.unix_path, options_.unix_mode, options_.unix_group);
  Address bound = bound_address(address, *acceptor);
  serve(std::move(acceptor), std::move(bound));
}

// A socket systemd bound and listens on (its mode and owner are the .socket unit's).
void Server::adopt_listener(int fd) {
  Address address;
  try {
    address = inherited_address(fd);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error("cannot listen on fd://" + std::to_string(fd) + ": " + e.what());
  }
  auto acceptor = std::make_unique<Acceptor>(workers_[0]->context());
  error_code ec;
  acceptor->assign(address.endpoint.protocol(), fd, ec);
  if (ec) throw std::runtime_error("cannot listen on " + address.text + ": " + ec.message());
  serve(std::move(acceptor), std::move(address));
}

void Server::serve(std::unique_ptr<Acceptor> acceptor, Address address) {
  if (address.inherited) {
    spdlog::info("listening on {} (fd {}, passed by systemd)", address.text, address.fd);
  } else {
    spdlog::info("listening on {}", address.text);
  }
  bound_.push_back(std::move(address));
  asio::co_spawn(workers_[0]->context(), accept_loop(*acceptor, bound_.back()), asio::detached);
  acceptors_.push_back(std::move(acceptor));
}

Task<void> Server::accept_loop(Acceptor& acceptor, Address address) {
  for (;;) {
    Worker& worker = *workers_[next_worker_++ % workers_.size()];
    error_code ec;
    Socket client = co_await acceptor.async_accept(worker.context(), ec_token(ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors, or a connection reset before accept: log and keep accepting.
      spdlog::warn("accept on {} failed: {}", address.text, ec.message());
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await pause.async_wait(ec_token(ec));
      continue;
    }
    if (!address.is_unix) client.set_option(asio::ip::tcp::no_delay(true), ec);
    client.non_blocking(true, ec);  // once, not per relay
    Peer peer{peer_of(client), ""};
    if (options_.tls && !address.is_unix) {
      asio::co_spawn(worker.context(), accept_tls(worker, std::move(client), std::move(peer)), asio::detached);
      continue;
    }
    asio::co_spawn(worker.context(),
                   run_session(worker, handler_, std::move(client), std::move(peer), options_.session),
                   asio::detached);
  }
}

// A TLS client: the handshake first (a client without an acceptable certificate is
// refused here, before any HTTP), then an ordinary session on the plaintext.
Task<void> Server::accept_tls(Worker& worker, Socket client, Peer peer) {
  std::string why;
  auto accepted = co_await tls_accept(std::move(client), options_.tls, options_.tls_handshake_timeout, peer.address, why);
  if (!accepted) {
    spdlog::warn("refused a TLS client {}: {}", peer.address, why);
    co_return;
  }
  peer.tls_subject = std::move(accepted->subject);
  co_await run_session(worker, handler_, std::move(accepted->plain), std::move(peer), options_.session);
}

Task<void> Server::drain(Worker& worker) {
  worker.begin_drain();
  const auto deadline = std::chrono::steady_clock::now() + options_.grace;
  asio::steady_timer tick(worker.context());
  while (worker.session_count() > 0 && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(std::chrono::milliseconds(20));
    error_code ec;
    co_await tick.async_wait(ec_token(ec));
  }
  if (worker.session_count() > 0) {
    spdlog::info("grace period over: closing {} connection(s)", worker.session_count());
    worker.close_everything();
  }
}

void Server::shutdown() {
  if (!started_) return;
  std::call_once(shutdown_once_, [this] {
    spdlog::info("shutting down: no new connections; open ones get {} ms",
                 options_.grace.count());
    asio::post(workers_[0]->context(), [this] {
      for (auto& a : acceptors_) {
        error_code ignored;
        a->close(ignored);
      }
      for (const auto& b : bound_) {
        if (b.is_unix && !b.inherited) ::unlink(b.unix_path.c_str());
      }
    });
    for (auto& w : workers_) {
      asio::co_spawn(w->context(), drain(*w), asio::detached);
    }
    guards_.clear();  // each thread ends when its last connection has
  });
}

void Server::wait() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace flocker::transport
