// Socket activation: `--listen fd://` serves the listening sockets a service manager passed
// (systemd's protocol: LISTEN_PID, LISTEN_FDS, descriptors from 3), tcp and unix alike;
// `fd://N` only the one at N. The flocker-proxy binary is started the way systemd starts it:
// the sockets moved to 3 and 4 and LISTEN_PID set to the pid that then execs the proxy.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fake_engine.h"
#include "raw_client.h"
#include "subprocess.h"
#include "transport/address.h"

using namespace flocker::test;
using flocker::transport::inherited_address;
using flocker::transport::parse_fd_listen;
using namespace std::chrono_literals;

namespace {

// A listening socket, closed at the end of the test. Inheritable (no FD_CLOEXEC), and above
// the descriptors a child is given, so that moving it to 3 or 4 never overwrites the other.
struct Listener {
  int fd = -1;
  int port = 0;          // tcp
  std::string path;      // unix
  ~Listener() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }
  void keep(int made) {
    fd = ::fcntl(made, F_DUPFD, 100);
    ::close(made);
  }
};

void tcp_listener(Listener& l, bool listening = true) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  if (listening) {
    ASSERT_EQ(::listen(s, 16), 0);
  }
  socklen_t size = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &size);
  l.port = ntohs(a.sin_port);
  l.keep(s);
}

void unix_listener(Listener& l) {
  l.path = temp_path("activated") + ".sock";
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, l.path.c_str(), sizeof a.sun_path - 1);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(s, 16), 0);
  l.keep(s);
}

int ping(const std::string& address) {
  RawClient c(address, 5s);
  c.send(request_text("GET", "/_ping"));
  return c.read_response().result_int();
}

// flocker-proxy as systemd starts it: `fds` become 3, 4, ...; LISTEN_FDS counts them;
// LISTEN_PID is the pid of the shell, which the proxy keeps through exec.
std::vector<std::string> activated(const std::vector<int>& fds, std::vector<std::string> proxy_args,
                                   const std::string& listen_pid = "$$") {
  std::string moves;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    moves += " " + std::to_string(3 + i) + "<&" + std::to_string(fds[i]) + "-";
  }
  std::vector<std::string> argv{"/bin/bash", "-c",
                                "exec" + moves + "; LISTEN_PID=" + listen_pid + " LISTEN_FDS=" +
                                    std::to_string(fds.size()) + " exec \"$@\"",
                                "bash", FLOCKER_PROXY_BIN, "--access-log", "off", "--threads", "1"};
  argv.insert(argv.end(), proxy_args.begin(), proxy_args.end());
  return argv;
}

bool answers(const std::string& address) {
  for (int i = 0; i < 500; ++i) {
    try {
      return ping(address) == 200;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(10ms);
    }
  }
  return false;
}

}  // namespace

TEST(FdListen, ParsesDockerdSpelling) {
  EXPECT_FALSE(parse_fd_listen("tcp://127.0.0.1:2375"));
  EXPECT_FALSE(parse_fd_listen("unix:///run/flocker/flocker.sock"));
  auto all = parse_fd_listen("fd://");
  ASSERT_TRUE(all);
  EXPECT_FALSE(all->fd);
  auto three = parse_fd_listen("fd://3");
  ASSERT_TRUE(three);
  EXPECT_EQ(three->fd, 3);
  for (const char* bad : {"fd://x", "fd://2", "fd://0", "fd://-3", "fd://3x", "fd:// 3"}) {
    EXPECT_THROW(parse_fd_listen(bad), std::invalid_argument) << bad;
  }
}

TEST(FdListen, ReadsTheFamilyOfAPassedSocket) {
  Listener tcp, un;
  tcp_listener(tcp);
  unix_listener(un);
  auto t = inherited_address(tcp.fd);
  EXPECT_TRUE(t.inherited);
  EXPECT_EQ(t.fd, tcp.fd);
  EXPECT_FALSE(t.is_unix);
  EXPECT_EQ(t.text, "tcp://127.0.0.1:" + std::to_string(tcp.port));
  auto u = inherited_address(un.fd);
  EXPECT_TRUE(u.is_unix);
  EXPECT_EQ(u.unix_path, un.path);
  EXPECT_EQ(u.text, "unix://" + un.path);
}

TEST(FdListen, RefusesWhatIsNotAListeningStreamSocket) {
  Listener bound_only;
  tcp_listener(bound_only, /*listen=*/false);
  EXPECT_THROW(inherited_address(bound_only.fd), std::invalid_argument);
  int datagram = ::socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_THROW(inherited_address(datagram), std::invalid_argument);
  ::close(datagram);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  EXPECT_THROW(inherited_address(pipe_fds[0]), std::invalid_argument);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(SocketActivation, FdSchemeServesEverySocketPassedAndLeavesThemToTheirOwner) {
  FakeEngine engine;
  Listener tcp, un;
  tcp_listener(tcp);
  unix_listener(un);
  Subprocess proxy(
      activated({tcp.fd, un.fd}, {"--listen", "fd://", "--engine", engine.address()}));
  const std::string tcp_address = "tcp://127.0.0.1:" + std::to_string(tcp.port);
  EXPECT_TRUE(answers(tcp_address)) << proxy.output();
  EXPECT_TRUE(answers("unix://" + un.path)) << proxy.output();
  EXPECT_NE(proxy.output().find("listening on " + tcp_address + " (fd 3, passed by systemd)"),
            std::string::npos) << proxy.output();
  EXPECT_NE(proxy.output().find("listening on unix://" + un.path + " (fd 4"), std::string::npos);
  proxy.signal(SIGTERM);
  ASSERT_EQ(proxy.wait_for(5s), 0) << proxy.output();
  struct stat st;
  EXPECT_EQ(::lstat(un.path.c_str(), &st), 0) << "the socket file is systemd's: not unlinked";
}

TEST(SocketActivation, FdNumberServesThatSocketOnly) {
  FakeEngine engine;
  Listener tcp, un;
  tcp_listener(tcp);
  unix_listener(un);
  Subprocess proxy(
      activated({tcp.fd, un.fd}, {"--listen", "fd://4", "--engine", engine.address()}));
  EXPECT_TRUE(answers("unix://" + un.path)) << proxy.output();
  EXPECT_EQ(proxy.output().find("listening on tcp://"), std::string::npos) << proxy.output();
}

TEST(SocketActivation, FdSchemeMixesWithOrdinaryListeners) {
  FakeEngine engine;
  Listener un;
  unix_listener(un);
  const std::string own = temp_path("own") + ".sock";
  Subprocess proxy(activated({un.fd}, {"--listen", "fd://", "--listen", "unix://" + own,
                                       "--engine", engine.address()}));
  EXPECT_TRUE(answers("unix://" + un.path)) << proxy.output();
  EXPECT_TRUE(answers("unix://" + own)) << proxy.output();
  proxy.signal(SIGTERM);
  ASSERT_EQ(proxy.wait_for(5s), 0) << proxy.output();
  struct stat st;
  EXPECT_NE(::lstat(own.c_str(), &st), 0) << "its own socket is removed on exit, as before";
}

TEST(SocketActivation, SaysWhyWhenNothingUsableWasPassed) {
  FakeEngine engine;
  auto fails_saying = [&](std::vector<std::string> argv, const std::string& why) {
    auto [code, out] = run(std::move(argv));
    EXPECT_EQ(code, 1) << out;
    EXPECT_NE(out.find(why), std::string::npos) << out;
  };
  fails_saying({FLOCKER_PROXY_BIN, "--listen", "fd://", "--engine", engine.address()},
               "cannot listen on fd://: no sockets were passed");
  Listener un;
  unix_listener(un);
  fails_saying(activated({un.fd}, {"--listen", "fd://", "--engine", engine.address()}, "1"),
               "the sockets were passed to process 1, not to this one");
  fails_saying(activated({un.fd}, {"--listen", "fd://5", "--engine", engine.address()}),
               "fd 5 was not passed (the sockets are fds 3..3)");
  fails_saying(activated({un.fd}, {"--listen", "fd://", "--listen", "fd://3", "--engine",
                                   engine.address()}),
               "fd 3 is already listed");
}
