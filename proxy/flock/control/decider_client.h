// The proxy's side of flocker.v1: every call asynchronous, with a deadline, resumed on the
// calling coroutine's own executor. No call ever blocks an I/O thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "flocker/v1/decider.grpc.pb.h"
#include "transport/net.h"

namespace flocker::flock {

namespace v1 = ::flocker::v1;

struct DeciderOptions {
  std::string address;  // gRPC target, e.g. "127.0.0.1:7070"
  std::chrono::milliseconds timeout{1000};
  // TLS to the decider (--decider-tls-*): PEM text, read from the files at start. With a
  // cert and key the proxy also proves who it is (mutual TLS).
  bool tls = false;
  std::string tls_ca_pem, tls_cert_pem, tls_key_pem;
  std::string tls_server_name;  // overrides the name checked in the decider's certificate
};

template <class Response>
struct DeciderResult {
  grpc::Status status;
  Response response;
  bool ok() const { return status.ok(); }
  // UNIMPLEMENTED: the decider has no opinion.
  bool unimplemented() const { return status.error_code() == grpc::StatusCode::UNIMPLEMENTED; }
  // The decider could not be asked (down, or past the deadline), as opposed to an answer.
  bool unreachable() const {
    auto c = status.error_code();
    return c == grpc::StatusCode::UNAVAILABLE || c == grpc::StatusCode::DEADLINE_EXCEEDED;
  }
};

class DeciderClient {
 public:
  explicit DeciderClient(DeciderOptions options);

  const std::string& address() const { return options_.address; }

  transport::Task<DeciderResult<v1::ListResponse>> list(v1::ListRequest request);
  transport::Task<DeciderResult<v1::RouteResponse>> route(v1::RouteRequest request);
  transport::Task<DeciderResult<v1::RemapContainerResponse>> remap(
      v1::RemapContainerRequest request);
  transport::Task<DeciderResult<v1::RegistryAuthResponse>> registry_auth(
      v1::RegistryAuthRequest request);
  transport::Task<DeciderResult<v1::AuthorizeResponse>> authorize(v1::AuthorizeRequest request);

 private:
  DeciderOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Decider::Stub> stub_;
};

}  // namespace flocker::flock
