// Security: the built-in policy and each attempt to get around it, Authorize (what it sees,
// fail-closed), TLS at the front and to the engines, client idle timeouts.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "flock_harness.h"
#include "proxy_harness.h"
#include "test_tls.h"
#include "transport/tls.h"

using namespace flocker;
using namespace flocker::test;
using namespace std::chrono_literals;

namespace {

flock::GuardOptions default_guard() {
  return flock::GuardOptions{};
}

// The images the tests' creates name, on every engine.
void add_images(FlockHarness& flock) {
  for (auto* e : {&flock.e1, &flock.e2, &flock.e3}) {
    e->add_image("busybox:latest");
    e->add_image("b:latest");
  }
}

flock::GuardOptions authorizing_guard() {
  flock::GuardOptions g;
  g.authorize = true;
  g.body_limit = 64 * 1024;
  return g;
}

// A flock behind the gate with the default policy (host access refused).
class Policy : public ::testing::Test {
 protected:
  FlockHarness flock{flock::DeciderFailure::kFail, 500ms, default_guard()};
  void SetUp() override { add_images(flock); }

  int creates_seen() {
    return static_cast<int>(flock.e1.requests("/containers/create").size() +
                            flock.e2.requests("/containers/create").size() +
                            flock.e3.requests("/containers/create").size());
  }
  void expect_refused(const std::string& body, const std::string& words) {
    auto res = flock.request("POST", "/v1.41/containers/create", body);
    EXPECT_EQ(res.result_int(), 403) << body << " -> " << res.body();
    EXPECT_NE(res.body().find(words), std::string::npos) << res.body();
    EXPECT_NE(res.body().find("\"message\""), std::string::npos);
  }
};

}  // namespace

TEST_F(Policy, AnOrdinaryCreatePasses) {
  auto res = flock.request(
      "POST", "/v1.41/containers/create?name=ok",
      R"({"Image":"busybox","HostConfig":{"Privileged":false,"NetworkMode":"default",)"
      R"("Binds":["data:/data"],"CapAdd":null,"SecurityOpt":null}})");
  EXPECT_EQ(res.result_int(), 201) << res.body();
  EXPECT_EQ(creates_seen(), 1);
}

TEST_F(Policy, EachKindOfHostAccessIsRefused) {
  expect_refused(R"({"Image":"b","HostConfig":{"Privileged":true}})", "privileged");
  expect_refused(R"({"Image":"b","HostConfig":{"NetworkMode":"host"}})", "NetworkMode=host");
  expect_refused(R"({"Image":"b","HostConfig":{"PidMode":"host"}})", "PidMode=host");
  expect_refused(R"({"Image":"b","HostConfig":{"IpcMode":"host"}})", "IpcMode=host");
  expect_refused(R"({"Image":"b","HostConfig":{"UsernsMode":"host"}})", "UsernsMode=host");
  expect_refused(R"({"Image":"b","HostConfig":{"CapAdd":["SYS_ADMIN"]}})", "capabilities");
  expect_refused(R"({"Image":"b","HostConfig":{"Binds":["/:/host"]}})", "host-mounts");
  expect_refused(
      R"({"Image":"b","HostConfig":{"Mounts":[{"Type":"bind","Source":"/etc","Target":"/x"}]}})",
      "/etc");
  expect_refused(
      R"({"Image":"b","HostConfig":{"Mounts":[{"Type":"volume","Source":"v","Target":"/x",)"
      R"("VolumeOptions":{"DriverConfig":{"Options":{"type":"none","o":"bind","device":"/etc"}}}}]}})",
      "host path");
  expect_refused(R"({"Image":"b","HostConfig":{"Devices":[{"PathOnHost":"/dev/sda"}]}})",
                 "devices");
  expect_refused(R"({"Image":"b","HostConfig":{"SecurityOpt":["seccomp=unconfined"]}})",
                 "seccomp=unconfined");
  expect_refused(R"({"Image":"b","HostConfig":{"SecurityOpt":["label:disable"]}})",
                 "label:disable");
  EXPECT_EQ(creates_seen(), 0);
}

TEST_F(Policy, JsonTricksDoNotGetPast) {
  // Go's decoder matches keys case-insensitively, takes the last repeat, decodes escapes,
  // and still reads HostConfig fields at the top level (deprecated): so does the policy.
  expect_refused(R"({"image":"b","hostconfig":{"privileged":true}})", "privileged");
  expect_refused(R"({"Image":"b","HostConfig":{"Privileged":false,"Privileged":true}})",
                 "privileged");
  expect_refused(R"({"Image":"b","HostConfig":{},"HostConfig":{"Privileged":true}})", "privileged");
  expect_refused(R"({"Image":"b","HostConfig":{"Privil\u0065ged":true}})", "privileged");
  expect_refused(R"({"Image":"b","Privileged":true})", "privileged");
  expect_refused(R"({"Image":"b","HostConfig":{"NetworkMode":"HOST"}})", "host");
  // The engine reads Go's first value and ignores what follows: so does the policy.
  expect_refused(R"({"Image":"b","HostConfig":{"Privileged":true}} {"HostConfig":{}})", "privileged");
  // Go reads invalid UTF-8 in a string; the policy cannot see past it, so it refuses.
  expect_refused("{\"Image\":\"b\xff\",\"HostConfig\":{\"Privileged\":true}}", "invalid UTF-8");
  EXPECT_EQ(creates_seen(), 0);
  // What Go cannot decode at all is the engine's to refuse, in its own words.
  auto malformed = flock.request("POST", "/v1.41/containers/create", "notjson");
  EXPECT_EQ(malformed.result_int(), 400) << malformed.body();
}

TEST_F(Policy, ChunkedAndOversizedBodiesAreCheckedOrRefused) {
  RawClient c(flock.address());
  c.send(
      "POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: "
      "chunked\r\n\r\n10\r\n{\"Image\":\"b\",\"Ho\r\n1e\r\nstConfig\":{\"Privileged\":true}}"
      "\r\n0\r\n\r\n");
  auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 403) << res.body();
  // A body larger than the limit is never passed on unseen.
  std::string huge = R"({"Image":"b","Labels":{"x":")" + std::string(2 << 20, 'x') + R"("}})";
  auto big = flock.request("POST", "/v1.41/containers/create", huge);
  EXPECT_EQ(big.result_int(), 413);
  EXPECT_EQ(creates_seen(), 0);
}

TEST_F(Policy, ExecStartUpdateAndVolumesAreCheckedToo) {
  flock.e1.add_container("c1", "busybox", 1);
  ASSERT_TRUE(FlockHarness::eventually(
      [&] { return flock.request("GET", "/v1.41/containers/c1/json").result_int() == 200; }));
  auto exec =
      flock.request("POST", "/v1.41/containers/c1/exec", R"({"Cmd":["sh"],"Privileged":true})");
  EXPECT_EQ(exec.result_int(), 403) << exec.body();
  auto start = flock.request("POST", "/v1.23/containers/c1/start", R"({"Privileged":true})");
  EXPECT_EQ(start.result_int(), 403) << start.body();
  auto update = flock.request("POST", "/v1.41/containers/c1/update",
                              R"({"Devices":[{"PathOnHost":"/dev/mem"}]})");
  EXPECT_EQ(update.result_int(), 403) << update.body();
  auto volume =
      flock.request("POST", "/v1.41/volumes/create",
                    R"({"Name":"v","DriverOpts":{"type":"none","o":"bind","device":"/etc"}})");
  EXPECT_EQ(volume.result_int(), 403) << volume.body();
  auto fine = flock.request("POST", "/v1.41/containers/c1/exec", R"({"Cmd":["sh"]})");
  EXPECT_EQ(fine.result_int(), 201) << fine.body();
}

TEST_F(Policy, PathTricksAreRefusedBeforeRouting) {
  for (const char* target :
       {"/v1.41/../containers/json", "/v1.41/./containers/json", "/containers//json",
        "//containers/json", "/c%6Fntainers/json", "/containers%2Fjson",
        "/v1.41/containers/c1%2F..%2F/json", "/containers/json/..", "/containers\\json",
        "/containers/%2e%2e/json", "/containers/json#x"}) {
    auto res = flock.request("GET", target);
    EXPECT_EQ(res.result_int(), 400) << target << " -> " << res.body();
  }
  // Case games reach no endpoint: the engine's router is case-sensitive, and so is ours.
  EXPECT_EQ(flock.request("GET", "/CONTAINERS/json").result_int(), 404);
  EXPECT_EQ(flock.request("GET", "/V1.41/containers/json").result_int(), 404);
  // An escape that is needed stays allowed.
  EXPECT_EQ(flock.request("GET", "/v1.41/images/busybox%3Alatest/json").result_int(), 404);
}

TEST(PolicyOptions, HostAccessCanBeAllowedExplicitly) {
  auto guard = default_guard();
  guard.policy.allow = docker::parse_host_access("privileged,host-mounts");
  FlockHarness flock{flock::DeciderFailure::kFail, 500ms, guard};
  add_images(flock);
  EXPECT_EQ(flock
                .request("POST", "/v1.41/containers/create",
                         R"({"Image":"b","HostConfig":{"Privileged":true}})")
                .result_int(),
            201);
  EXPECT_EQ(flock
                .request("POST", "/v1.41/containers/create",
                         R"({"Image":"b","HostConfig":{"Binds":["/srv:/srv"]}})")
                .result_int(),
            201);
  EXPECT_EQ(flock
                .request("POST", "/v1.41/containers/create",
                         R"({"Image":"b","HostConfig":{"CapAdd":["ALL"]}})")
                .result_int(),
            403);
  EXPECT_THROW(docker::parse_host_access("privileged,root"), std::invalid_argument);
}

TEST(PolicyOptions, ReadOnlyServesOnlyReads) {
  auto guard = default_guard();
  guard.policy.read_only = true;
  FlockHarness flock{flock::DeciderFailure::kFail, 500ms, guard};
  EXPECT_EQ(flock.request("GET", "/v1.41/containers/json").result_int(), 200);
  EXPECT_EQ(flock.request("HEAD", "/_ping").result_int(), 200);
  auto create = flock.request("POST", "/v1.41/containers/create", R"({"Image":"b"})");
  EXPECT_EQ(create.result_int(), 403);
  EXPECT_NE(create.body().find("read-only"), std::string::npos);
  EXPECT_EQ(flock.request("DELETE", "/v1.41/containers/x").result_int(), 403);
  EXPECT_EQ(flock.request("POST", "/v1.41/images/create?fromImage=busybox").result_int(), 403);
  // A websocket attach is a GET that writes to the container's stdin.
  EXPECT_EQ(flock
                .request("GET", "/v1.41/containers/x/attach/ws?stdin=1", "",
                         "Connection: Upgrade\r\nUpgrade: websocket\r\n")
                .result_int(),
            403);
}

TEST(PolicyOptions, DeniedClassesAreRefusedWhicheverPathSpellsThem) {
  auto guard = default_guard();
  guard.policy.denied = {docker::EndpointClass::kExec, docker::EndpointClass::kVolumes};
  FlockHarness flock{flock::DeciderFailure::kFail, 500ms, guard};
  flock.e1.add_container("c1", "busybox", 1);
  auto exec = flock.request("POST", "/v1.41/containers/c1/exec", R"({"Cmd":["sh"]})");
  EXPECT_EQ(exec.result_int(), 403);
  EXPECT_NE(exec.body().find("exec endpoints are disabled"), std::string::npos) << exec.body();
  EXPECT_EQ(flock.request("POST", "/exec/abc/start", "{}").result_int(), 403);
  EXPECT_EQ(flock.request("GET", "/volumes").result_int(), 403);
  EXPECT_EQ(flock.request("GET", "/v1.99/volumes").result_int(), 403);
  EXPECT_EQ(flock.request("GET", "/v1.41/containers/json").result_int(), 200);
  EXPECT_TRUE(flock.e1.requests("/containers/c1/exec").empty());
}

TEST(PolicyOptions, ClassNamesAndCanonicalPaths) {
  for (const char* name : {"containers", "images", "exec", "build", "volumes", "networks", "system",
                           "events", "other"}) {
    auto cls = docker::class_from_name(name);
    ASSERT_TRUE(cls) << name;
    EXPECT_STREQ(docker::class_name(*cls), name);
  }
  EXPECT_FALSE(docker::class_from_name("swarm"));
  EXPECT_FALSE(docker::non_canonical_target("/v1.41/containers/json?filters=%7B%22a%22%3A1%7D"));
  EXPECT_FALSE(docker::non_canonical_target("/"));
  EXPECT_TRUE(docker::non_canonical_target("/containers/%zz/json"));
}

// ---- Authorize

TEST(Authorize, SeesWhatTheEngineWillReceive) {
  FlockHarness flock{flock::DeciderFailure::kFail, 500ms, authorizing_guard()};
  add_images(flock);
  flock.decider.on_authorize = [](const v1::AuthorizeRequest&, v1::AuthorizeResponse& resp) {
    resp.set_allow(true);
    return grpc::Status::OK;
  };
  RawClient c(flock.address());
  // Chunked, in two pieces: Authorize gets the whole body, the engine the same bytes.
  const std::string body = R"({"Image":"busybox","Labels":{"k":"v"}})";
  c.send(
      "POST /v1.41/containers/create?name=seen HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\n"
      "User-Agent: Docker-Client/28\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n" +
      body.substr(0, 5) + "\r\n" + fmt::format("{:x}", body.size() - 5) + "\r\n" + body.substr(5) +
      "\r\n0\r\n\r\n");
  auto res = c.read_response();
  ASSERT_EQ(res.result_int(), 201) << res.body();
  std::lock_guard lock(flock.decider.mu);
  ASSERT_EQ(flock.decider.authorizations.size(), 1u);
  const auto& a = flock.decider.authorizations[0];
  EXPECT_EQ(a.method(), "POST");
  EXPECT_EQ(a.path(), "/containers/create");
  EXPECT_EQ(a.api_version(), "1.41");
  EXPECT_EQ(a.query(), "name=seen");
  EXPECT_EQ(a.endpoint_class(), v1::ENDPOINT_CLASS_CONTAINERS);
  EXPECT_EQ(a.body(), body);
  EXPECT_TRUE(a.body_inspected());
  EXPECT_EQ(a.content_type(), "application/json");
  EXPECT_EQ(a.stage(), v1::AUTHORIZE_STAGE_REQUEST);
  EXPECT_EQ(a.client().user_agent(), "Docker-Client/28");
  EXPECT_FALSE(a.client().remote_address().empty());
  int seen = 0;
  for (auto* e : {&flock.e1, &flock.e2, &flock.e3}) {
    for (const auto& r : e->requests("/containers/create")) {
      EXPECT_EQ(r.body, body);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 1);
}

TEST(Authorize, ADenialIs403WithTheDecidersMessage) {
  FlockHarness flock{flock::DeciderFailure::kFail, 500ms, authorizing_guard()};
  flock.e1.add_container("c1", "busybox", 1);
  flock.decider.on_authorize = [](const v1::AuthorizeRequest& req, v1::AuthorizeResponse& resp) {
    resp.set_allow(req.endpoint_class() != v1::ENDPOINT_CLASS_EXEC);
    if (!resp.allow()) resp.set_message("no exec for you");
    return grpc::Status::OK;
  };
  auto exec = flock.request("POST", "/v1.41/containers/c1/exec", R"({"Cmd":["sh"]})");
  EXPECT_EQ(exec.result_int(), 403);
  EXPECT_EQ(exec.body(), "{\"message\":\"no exec for you\"}\n");
  EXPECT_TRUE(flock.e1.requests("/containers/c1/exec").empty());
  EXPECT_EQ(flock.request("GET", "/v1.41/containers/json").result_int(), 200);
}

TEST(Authorize, FailsClosed) {
  FlockHarness flock{flock::DeciderFailure::kFail, 300ms, authorizing_guard()};
  // No opinion (UNIMPLEMENTED) is a refusal here.
  auto res = flock.request("GET", "/v1.41/containers/json");
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_NE(res.body().find("does not implement Authorize"), std::string::npos) << res.body();
  // An error from the decider: refused, with its message.
  flock.decider.on_authorize = [](const v1::AuthorizeRequest&, v1::AuthorizeResponse&) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "policy store offline");
  };
  res = flock.request("GET", "/v1.41/containers/json");
  EXPECT_EQ(res.result_int(), 403);
  EXPECT_NE(res.body().find("policy store offline"), std::string::npos);
  // Too slow: past the deadline, refused.
  flock.decider.on_authorize = [](const v1::AuthorizeRequest&, v1::AuthorizeResponse& resp) {
    std::this_thread::sleep_for(600ms);
    resp.set_allow(true);
    return grpc::Status::OK;
  };
  res = flock.request("GET", "/v1.41/containers/json");
  EXPECT_EQ(res.result_int(), 503) << res.body();
  // Down: refused.
  flock.decider.on_authorize = nullptr;
  flock.decider_server->shutdown();
  res = flock.request("GET", "/v1.41/containers/json");
  EXPECT_EQ(res.result_int(), 503) << res.body();
}

TEST(Authorize, StreamedBodiesAreFlaggedUnseenAndLargeJsonIsRefused) {
  FlockHarness flock{flock::DeciderFailure::kFail, 500ms, authorizing_guard()};
  std::vector<v1::AuthorizeRequest> seen;
  flock.decider.on_authorize = [](const v1::AuthorizeRequest&, v1::AuthorizeResponse& resp) {
    resp.set_allow(false);
    resp.set_message("no");
    return grpc::Status::OK;
  };
  auto build = flock.request("POST", "/v1.41/build?t=x", std::string(1000, 't'));
  EXPECT_EQ(build.result_int(), 403);
  {
    std::lock_guard lock(flock.decider.mu);
    ASSERT_EQ(flock.decider.authorizations.size(), 1u);
    EXPECT_FALSE(flock.decider.authorizations[0].body_inspected());
    EXPECT_TRUE(flock.decider.authorizations[0].body().empty());
    EXPECT_EQ(flock.decider.authorizations[0].endpoint_class(), v1::ENDPOINT_CLASS_BUILD);
  }
  auto big = flock.request("POST", "/v1.41/networks/create",
                           R"({"Name":")" + std::string(100000, 'n') + "\"}");
  EXPECT_EQ(big.result_int(), 413);
  std::lock_guard lock(flock.decider.mu);
  EXPECT_EQ(flock.decider.authorizations.size(), 1u);  // never asked: refused unseen
}

TEST(Authorize, ABodyRewrittenByRemapIsCheckedAgain) {
  FlockHarness flock{flock::DeciderFailure::kFail, 500ms, authorizing_guard()};
  add_images(flock);
  flock.decider.on_authorize = [](const v1::AuthorizeRequest&, v1::AuthorizeResponse& resp) {
    resp.set_allow(true);
    return grpc::Status::OK;
  };
  flock.decider.on_remap = [](const v1::RemapContainerRequest&, v1::RemapContainerResponse& resp) {
    resp.set_body(R"({"Image":"busybox","Labels":{"remapped":"yes"}})");
    return grpc::Status::OK;
  };
  auto res = flock.request("POST", "/v1.41/containers/create", R"({"Image":"busybox"})");
  EXPECT_EQ(res.result_int(), 201) << res.body();
  {
    std::lock_guard lock(flock.decider.mu);
    ASSERT_EQ(flock.decider.authorizations.size(), 2u);
    EXPECT_EQ(flock.decider.authorizations[1].stage(), v1::AUTHORIZE_STAGE_REMAPPED);
    EXPECT_EQ(flock.decider.authorizations[1].body(),
              R"({"Image":"busybox","Labels":{"remapped":"yes"}})");
    EXPECT_FALSE(flock.decider.authorizations[1].host().empty());
  }
  // A remap that makes the container privileged meets the built-in policy.
  flock.decider.on_remap = [](const v1::RemapContainerRequest&, v1::RemapContainerResponse& resp) {
    resp.set_body(R"({"Image":"busybox","HostConfig":{"Privileged":true}})");
    return grpc::Status::OK;
  };
  res = flock.request("POST", "/v1.41/containers/create", R"({"Image":"busybox"})");
  EXPECT_EQ(res.result_int(), 403) << res.body();
  EXPECT_NE(res.body().find("RemapContainer"), std::string::npos);
}

// ---- Idle clients

TEST(IdleClients, AConnectionIdleBetweenRequestsIsClosed) {
  FakeEngine engine;
  transport::ServerOptions options;
  options.session.idle_timeout = 300ms;
  ProxyHarness proxy(engine.address(), options);
  RawClient slow(proxy.address());
  slow.send("GET /_ping HTTP/1.1\r\nHo");  // a header that never ends (slowloris)
  EXPECT_TRUE(slow.closed_by_peer(3s));
  RawClient idle(proxy.address());
  idle.send(request_text("GET", "/_ping"));
  EXPECT_EQ(idle.read_response().result_int(), 200);
  EXPECT_TRUE(idle.closed_by_peer(3s));
}

// ---- TLS

class Tls : public ::testing::Test {
 protected:
  Tls() {
    server_cert = pki.issue("proxy");
    client_cert = pki.issue("docker-user");
  }
  transport::ServerOptions tls_options() {
    transport::ServerOptions o;
    o.tls = transport::TlsContext::server(
        {pki.ca_file(), "", server_cert.cert, "", server_cert.key, ""});
    o.tls_handshake_timeout = 2s;
    return o;
  }
  TestPki pki;
  IssuedCert server_cert, client_cert;
  FakeEngine engine;
};

TEST_F(Tls, AClientWithAValidCertificateIsServed) {
  ProxyHarness proxy(engine.address(), tls_options());
  std::string error;
  auto out = tls_exchange(proxy.address(), pki.ca_file(), &client_cert,
                          request_text("GET", "/_ping", "Connection: close\r\n"), &error);
  EXPECT_NE(out.find("200 OK"), std::string::npos) << error;
  EXPECT_NE(out.find("\r\n\r\nOK"), std::string::npos);
}

// The refused client must learn why: the TLS alert reaches it, not a connection reset. With
// TLS 1.3 the client has finished its side of the handshake and sends its request before the
// alert arrives; a proxy that closed with that request unread would answer with a RST, and
// the client would report "connection reset" (the docker CLI did, now and then).
TEST_F(Tls, ClientsWithoutAnAcceptableCertificateAreRefusedInTheHandshake) {
  ProxyHarness proxy(engine.address(), tls_options());
  TestPki other("other-ca");
  const IssuedCert stranger = other.issue("stranger");
  const IssuedCert expired = pki.issue("expired", -10, -1);
  const std::string request = request_text("GET", "/_ping") + std::string(8192, 'x');
  for (int round = 0; round < 20; ++round) {
    for (const IssuedCert* cert : {static_cast<const IssuedCert*>(nullptr), &stranger, &expired}) {
      std::string error;
      const auto pause = std::chrono::milliseconds(round % 2 ? 20 : 0);
      EXPECT_EQ(tls_exchange(proxy.address(), pki.ca_file(), cert, request, &error, false, pause),
                "");
      EXPECT_NE(error.find("alert"), std::string::npos)
          << "round " << round << ", " << (cert ? cert->cert : "no certificate") << ": " << error;
    }
  }
  EXPECT_EQ(engine.requests(), 0u);
}

TEST_F(Tls, HijackKeepsHalfCloseOverTls) {
  ProxyHarness proxy(engine.address(), tls_options());
  const std::string req =
      request_text("POST", "/hijack", "Connection: Upgrade\r\nUpgrade: tcp\r\n") + "ping-over-tls";
  auto out =
      tls_exchange(proxy.address(), pki.ca_file(), &client_cert, req, nullptr, /*half_close=*/true);
  EXPECT_NE(out.find("101"), std::string::npos) << out;
  EXPECT_NE(out.find("ping-over-tls[eof]"), std::string::npos) << out;
}

TEST_F(Tls, EnginesAreReachedOverTlsAndTheirCertificatesVerified) {
  // A TLS "engine": a proxy with TLS in front of the fake engine, requiring our client cert.
  ProxyHarness tls_engine(engine.address(), tls_options());
  auto address = transport::resolve_address(tls_engine.address());
  auto proxy_cert = pki.issue("flocker-proxy");
  address.tls = std::make_shared<transport::TlsClient>(transport::TlsClient{
      transport::TlsContext::client({pki.ca_file(), "", proxy_cert.cert, "", proxy_cert.key, ""}),
      "127.0.0.1"});
  docker::SingleEngineHandler handler(address);
  transport::ServerOptions o;
  o.listen = {"tcp://127.0.0.1:0"};
  o.threads = 1;
  transport::Server front(o, handler);
  front.start();
  {
    RawClient c(front.bound()[0].text);
    c.send(request_text("GET", "/_ping"));
    EXPECT_EQ(c.read_response().result_int(), 200);
    c.send(request_text("POST", "/echo", "", "through two TLS hops"));
    EXPECT_EQ(c.read_response().body(), "through two TLS hops");
  }
  {
    RawClient c(front.bound()[0].text);
    c.send(request_text("POST", "/hijack", "Connection: Upgrade\r\nUpgrade: tcp\r\n"));
    EXPECT_EQ(c.read_response_header().result_int(), 101);
    c.send("abc");
    c.shutdown_write();
    EXPECT_EQ(c.read_until_eof(), "abc[eof]");
  }
  // The wrong CA for the engine: the proxy refuses to talk to it, and says so.
  TestPki other("other-ca");
  auto bad = transport::resolve_address(tls_engine.address());
  bad.tls = std::make_shared<transport::TlsClient>(transport::TlsClient{
      transport::TlsContext::client({other.ca_file(), "", proxy_cert.cert, "", proxy_cert.key, ""}),
      "127.0.0.1"});
  docker::SingleEngineHandler bad_handler(bad);
  transport::Server bad_front(o, bad_handler);
  bad_front.start();
  RawClient c(bad_front.bound()[0].text);
  c.send(request_text("GET", "/_ping"));
  auto res = c.read_response();
  EXPECT_EQ(res.result_int(), 502);
  EXPECT_NE(res.body().find("TLS"), std::string::npos) << res.body();
  bad_front.shutdown();
  bad_front.wait();
  front.shutdown();
  front.wait();
}
