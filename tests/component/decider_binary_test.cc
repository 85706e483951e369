// The flocker-decider and example binaries as a user runs them.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "flocker/v1/decider.grpc.pb.h"
#include "grpc_probe.h"
#include "subprocess.h"

using namespace flocker;
using namespace std::chrono_literals;
namespace v1 = flocker::v1;

namespace {

std::shared_ptr<grpc::Channel> unix_channel(const std::string& path) {
  return grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials());
}

v1::ListResponse list(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 2s);
  v1::ListResponse resp;
  EXPECT_TRUE(v1::Decider::NewStub(channel)->List(&ctx, {}, &resp).ok());
  return resp;
}

}  // namespace

TEST(DeciderBinary, BadFlagsExitWithCodeTwoAndAMessage) {
  const std::string bin = FLOCKER_DECIDER_BIN;
  struct Case {
    std::vector<std::string> args;
    std::string says;
  } cases[] = {
      {{"--bogus"}, "unrecognised option"},
      {{}, "exactly one of --hosts, --hosts-file and --hosts-etcd"},
      {{"--hosts", "tcp://a:1", "--hosts-file", "/x"}, "exactly one"},
      {{"--hosts-etcd", "/flocker/hosts/"}, "--hosts-etcd and --etcd go together"},
      {{"--hosts-etcd", "/h/", "--etcd", "etcd://a:1,,b:2"}, "--etcd: etcd endpoints"},
      {{"--hosts", "ftp://a:1"}, "unsupported scheme"},
      {{"--hosts-file", "/nonexistent/hosts"}, "cannot read hosts file /nonexistent/hosts"},
      {{"--hosts", "a:1", "--pull", "some"}, "--pull must be"},
      {{"--hosts", "a:1", "--strategy", "clever"}, "--strategy must be"},
      {{"--hosts", "a:1", "--log-level", "loud"}, "unknown --log-level"},
  };
  for (auto& c : cases) {
    std::vector<std::string> argv{bin};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto [code, output] = test::run(argv);
    EXPECT_EQ(code, 2) << output;
    EXPECT_NE(output.find(c.says), std::string::npos) << output;
  }
}

TEST(DeciderBinary, ServesHealthReloadsOnSighupAndStopsOnSigterm) {
  const std::string sock = test::temp_path("decider") + ".sock";
  const std::string hosts = test::temp_path("hosts");
  std::ofstream(hosts) << "tcp://127.0.0.1:2376 e1 zone=a\n";
  test::Subprocess decider({FLOCKER_DECIDER_BIN, "--listen", "unix:" + sock, "--hosts-file", hosts,
                            "--drain", "1"});
  auto channel = unix_channel(sock);
  ASSERT_TRUE(test::wait_for_health(channel, test::Health::kServing)) << decider.output();
  EXPECT_EQ(list(channel).hosts_size(), 1);

  std::ofstream(hosts) << "tcp://127.0.0.1:2376 e1 zone=a\ntcp://127.0.0.1:2377 e2 zone=b\n";
  decider.signal(SIGHUP);
  bool reloaded = false;
  for (int i = 0; i < 200 && !reloaded; ++i, std::this_thread::sleep_for(10ms)) {
    reloaded = list(channel).hosts_size() == 2;
  }
  EXPECT_TRUE(reloaded) << decider.output();

  std::ofstream(hosts) << "not an address\n";  // a broken reload keeps the old inventory
  decider.signal(SIGHUP);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(list(channel).hosts_size(), 2);
  EXPECT_NE(decider.output().find("reload failed"), std::string::npos);

  decider.signal(SIGTERM);
  EXPECT_EQ(decider.wait_for(5s), 0) << decider.output();
  std::remove(hosts.c_str());
}

TEST(ExampleDecider, RoutesByZoneLabel) {
  const std::string sock = test::temp_path("example") + ".sock";
  test::Subprocess example({FLOCKER_EXAMPLE_BIN, "unix:" + sock, "a=tcp://127.0.0.1:1,zone=a",
                            "b=tcp://127.0.0.1:2,zone=b"});
  auto channel = unix_channel(sock);
  ASSERT_TRUE(test::wait_for_health(channel, test::Health::kServing)) << example.output();
  auto hosts = list(channel);
  ASSERT_EQ(hosts.hosts_size(), 2);
  EXPECT_EQ(hosts.hosts(1).labels().at("zone"), "b");

  auto stub = v1::Decider::NewStub(channel);
  auto route = [&](const std::string& body, grpc::Status* status = nullptr) {
    v1::RouteRequest req;
    req.set_kind(v1::OPERATION_KIND_CONTAINER_CREATE);
    req.set_body(body);
    for (const auto& h : hosts.hosts()) {
      auto* c = req.add_candidates();
      c->set_name(h.name());
      c->set_healthy(true);
      *c->mutable_labels() = h.labels();
    }
    grpc::ClientContext ctx;
    v1::RouteResponse resp;
    auto s = stub->Route(&ctx, req, &resp);
    if (status) *status = s;
    return resp.hosts_size() ? resp.hosts(0) : "";
  };
  EXPECT_EQ(route(R"({"Image":"busybox","Labels":{"zone":"b"}})"), "b");
  EXPECT_EQ(route(R"({"Image":"busybox","Labels":{"zone":"a"}})"), "a");
  EXPECT_EQ(route(R"({"Image":"busybox"})"), "a");
  grpc::Status status;
  EXPECT_EQ(route(R"({"Labels":{"zone":"c"}})", &status), "");
  EXPECT_EQ(status.error_message(), "no healthy host in zone c");
  example.signal(SIGTERM);
  EXPECT_EQ(example.wait_for(10s), 0);
}

TEST(DeciderBinary, ASecondDeciderOnATakenPortExitsWithAMessage) {
  // gRPC's default SO_REUSEPORT would let both listen and split the calls between them.
  test::Subprocess first({FLOCKER_DECIDER_BIN, "--listen", "127.0.0.1:0", "--hosts", "tcp://127.0.0.1:2376"});
  std::string port;
  for (int i = 0; i < 200 && port.empty(); ++i, std::this_thread::sleep_for(10ms)) {
    const std::string out = first.output();
    const auto at = out.find("(port ");
    if (at != std::string::npos) port = out.substr(at + 6, out.find(')', at) - at - 6);
  }
  ASSERT_FALSE(port.empty()) << first.output();
  auto [code, output] = test::run({FLOCKER_DECIDER_BIN, "--listen", "127.0.0.1:" + port, "--hosts", "tcp://127.0.0.1:2376"});
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("cannot listen on 127.0.0.1:" + port), std::string::npos) << output;
}
