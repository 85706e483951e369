// The proxy's coordination (flock/coordination/coordination.h) against a real etcd: Debian's etcd-server,
// one member on loopback, started by the test. What several proxies share goes through it:
// name reservations (exclusive, released, gone with a stopped proxy's lease), pull pins, the
// inventory's generation; and with etcd gone, claims fail closed with a message naming it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <future>
#include <thread>

#include <boost/asio/use_future.hpp>

#include "flock/coordination/coordination.h"
#include "subprocess.h"
#include "test_tls.h"

namespace flocker::flock {
namespace {

namespace asio = transport::asio;
using namespace std::chrono_literals;

template <class T>
T run_task(transport::Task<T> task) {
  asio::io_context io;
  auto result = asio::co_spawn(io, std::move(task), asio::use_future);
  io.run();
  return result.get();
}

// Polls `done` for up to `limit`.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 5s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

class Coordinated : public ::testing::Test {
 protected:
  void SetUp() override { start_etcd(); }

  // One member on loopback; with a PKI, TLS on the client port and client certificates
  // required (etcd's --client-cert-auth).
  void start_etcd(test::TestPki* pki = nullptr) {
    if (::access("/usr/bin/etcd", X_OK) != 0) GTEST_SKIP() << "etcd is not installed (Debian etcd-server)";
    // Ports from the pid, away from bench/ (21000-), the e2e tests (26000-) and etcd's 2379, and
    // below the ephemeral range (32768-): a client connecting there before etcd listens can
    // be given that very port as its own and connect to itself.
    client_port_ = 19000 + (::getpid() % 500) * 2;
    data_ = test::temp_path("etcd");
    const std::string client = std::string(pki ? "https" : "http") + "://127.0.0.1:" + std::to_string(client_port_);
    const std::string peer = "http://127.0.0.1:" + std::to_string(client_port_ + 1);
    std::vector<std::string> argv{"/usr/bin/etcd", "--name", "t", "--data-dir", data_, "--listen-client-urls", client,
                                  "--advertise-client-urls", client, "--listen-peer-urls", peer,
                                  "--initial-advertise-peer-urls", peer, "--initial-cluster", "t=" + peer,
                                  "--heartbeat-interval", "50", "--election-timeout", "500"};
    options_.etcd.endpoints = {"127.0.0.1:" + std::to_string(client_port_)};
    options_.etcd.timeout = 1s;
    options_.ttl = 2s;
    if (pki) {
      server_cert_ = pki->issue("etcd");
      client_cert_ = pki->issue("flocker-proxy");
      for (const std::string& flag : std::vector<std::string>{"--cert-file", server_cert_.cert, "--key-file",
                                                              server_cert_.key, "--trusted-ca-file", pki->ca_file(),
                                                              "--client-cert-auth"}) {
        argv.push_back(flag);
      }
      options_.etcd.tls = true;
      options_.etcd.ca_pem = read(pki->ca_file());
      options_.etcd.cert_pem = read(client_cert_.cert);
      options_.etcd.key_pem = read(client_cert_.key);
    }
    argv_ = std::move(argv);
    run_etcd();
  }
  // Starts etcd (again: same data, same ports) and waits until it takes a write.
  void run_etcd() {
    etcd_ = std::make_unique<test::Subprocess>(argv_);
    etcd::Client probe(options_.etcd);
    grpc::Status status;
    ASSERT_TRUE(eventually([&] { return (status = probe.put("/probe", "1")).ok(); }, 15s))
        << status.error_message() << "\n" << etcd_->output();
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void TearDown() override {
    etcd_.reset();
    std::error_code ec;
    if (!data_.empty()) std::filesystem::remove_all(data_, ec);
  }
  std::unique_ptr<Coordination> proxy(const std::string& instance, std::function<void()> moved = {}) {
    auto c = std::make_unique<Coordination>(options_, instance);
    c->start(std::move(moved));
    EXPECT_TRUE(eventually([&] { return c->available(); })) << "no lease";
    return c;
  }

  test::IssuedCert server_cert_, client_cert_;
  int client_port_ = 0;
  std::string data_;
  std::vector<std::string> argv_;
  std::unique_ptr<test::Subprocess> etcd_;
  CoordinationOptions options_;
};

TEST_F(Coordinated, ANameIsOneProxysUntilItReleasesIt) {
  auto a = proxy("proxy-a");
  auto b = proxy("proxy-b");
  auto first = run_task(a->claim_name("web", "req-1"));
  ASSERT_EQ(first.claim, Claim::kReserved) << first.message;
  auto second = run_task(b->claim_name("web", "req-2"));
  EXPECT_EQ(second.claim, Claim::kTaken);
  EXPECT_NE(second.message.find("flocker-proxy proxy-a, request req-1"), std::string::npos) << second.message;
  EXPECT_EQ(run_task(b->claim_name("db", "req-3")).claim, Claim::kReserved);  // other names are free

  a->release_name("web", first.value);
  EXPECT_TRUE(eventually([&] { return run_task(b->claim_name("web", "req-4")).claim == Claim::kReserved; }));
}

TEST_F(Coordinated, AReleaseDoesNotTakeAnotherProxysClaim) {
  auto a = proxy("proxy-a");
  auto b = proxy("proxy-b");
  auto claim = run_task(b->claim_name("api", "req-b"));
  ASSERT_EQ(claim.claim, Claim::kReserved);
  a->release_name("api", "proxy-a req-stale");  // a late release of a's old claim
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(run_task(a->claim_name("api", "req-a")).claim, Claim::kTaken);
}

TEST_F(Coordinated, AStoppedProxysNamesGoWithItsLease) {
  auto a = proxy("proxy-a");
  auto b = proxy("proxy-b");
  ASSERT_EQ(run_task(a->claim_name("cache", "req-1")).claim, Claim::kReserved);
  a->stop();  // the lease is revoked: at once, not after the TTL
  EXPECT_EQ(run_task(b->claim_name("cache", "req-2")).claim, Claim::kReserved);
}

TEST_F(Coordinated, PullPinsAreSeenByEveryProxy) {
  auto a = proxy("proxy-a");
  auto b = proxy("proxy-b");
  a->pin("10.0.0.9", "reg/busybox:latest", "e2", 30s);
  EXPECT_TRUE(eventually([&] { return b->pinned("10.0.0.9", "reg/busybox:latest") == std::optional<std::string>("e2"); }));
  EXPECT_FALSE(b->pinned("10.0.0.8", "reg/busybox:latest"));
  b->unpin("10.0.0.9", "reg/busybox:latest");
  EXPECT_TRUE(eventually([&] { return !a->pinned("10.0.0.9", "reg/busybox:latest"); }));
}

TEST_F(Coordinated, TheInventorysGenerationWakesEveryProxy) {
  std::atomic<int> moved{0};
  auto a = proxy("proxy-a", [&] { ++moved; });
  const int at_start = moved.load();
  etcd::Client writer(options_.etcd);
  ASSERT_TRUE(writer.put("/flocker/inventory/generation", "7").ok());
  EXPECT_TRUE(eventually([&] { return moved.load() > at_start; }, 2s));
}

TEST_F(Coordinated, WithEtcdGoneClaimsFailClosedNamingIt) {
  auto a = proxy("proxy-a");
  etcd_->signal(SIGKILL);
  etcd_->wait_for(5s);
  EXPECT_TRUE(eventually([&] { return !a->available(); }, 5s));
  auto claim = run_task(a->claim_name("web", "req-1"));
  EXPECT_EQ(claim.claim, Claim::kUnavailable);
  EXPECT_NE(claim.message.find("etcd (127.0.0.1:" + std::to_string(client_port_) + ") is unavailable"),
            std::string::npos)
      << claim.message;
  EXPECT_NE(claim.message.find("creates and renames are refused"), std::string::npos) << claim.message;
}

TEST_F(Coordinated, AClaimMadeAsEtcdComesBackWaitsForTheLease) {
  auto a = proxy("proxy-a");
  etcd_->signal(SIGKILL);
  etcd_->wait_for(5s);
  ASSERT_TRUE(eventually([&] { return !a->available(); }, 5s));
  run_etcd();  // etcd takes writes again; this proxy's lease is not kept alive yet
  auto claim = run_task(a->claim_name("web", "req-1"));
  EXPECT_EQ(claim.claim, Claim::kReserved) << claim.message;
}

// etcd with TLS and client certificates (--coordination-tls-*): the proxy's certificate gets
// it in; without one, etcd is unavailable and claims say so.
class CoordinatedTls : public Coordinated {
 protected:
  void SetUp() override { start_etcd(&pki_); }
  test::TestPki pki_{"etcd-ca"};
};

TEST_F(CoordinatedTls, WithTheProxysCertificateNamesAreReserved) {
  auto a = proxy("proxy-a");
  EXPECT_EQ(run_task(a->claim_name("secure", "req-1")).claim, Claim::kReserved);
}

TEST_F(CoordinatedTls, WithoutAClientCertificateEtcdIsUnavailable) {
  options_.etcd.cert_pem.clear();
  options_.etcd.key_pem.clear();
  Coordination a(options_, "proxy-a");
  a.start({});
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(a.available());
  auto claim = run_task(a.claim_name("secure", "req-1"));
  EXPECT_EQ(claim.claim, Claim::kUnavailable);
  EXPECT_NE(claim.message.find("is unavailable"), std::string::npos) << claim.message;
}

}  // namespace
}  // namespace flocker::flock
