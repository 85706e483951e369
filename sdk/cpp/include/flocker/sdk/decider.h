// The C++ SDK for writing a flocker decider.
//
//   class MyDecider : public flocker::sdk::Decider {
//     grpc::Status Route(grpc::ServerContext&, const v1::RouteRequest& req,
//                        v1::RouteResponse& resp) override { ... }
//   };
//   int main() { MyDecider d; return flocker::sdk::serve(d, flocker::sdk::ServeOptions{}); }
//
// Override only the RPCs you have an opinion on: the defaults answer UNIMPLEMENTED, which
// the proxy reads as "no opinion" (see proto/flocker/v1/decider.proto).
#pragma once

#include <grpcpp/grpcpp.h>

#include "flocker/v1/decider.grpc.pb.h"
#include "flocker/v1/decider.pb.h"

namespace flocker::sdk {

namespace v1 = ::flocker::v1;

// The status a handler returns for "no opinion".
grpc::Status no_opinion();

// Base class of a decider. Handlers may be called concurrently from several gRPC threads:
// guard shared state. A handler that throws answers INTERNAL with the exception's message
// (which the docker user sees), and the SDK logs it.
class Decider {
 public:
  virtual ~Decider() = default;

  virtual grpc::Status List(grpc::ServerContext& ctx, const v1::ListRequest& req,
                            v1::ListResponse& resp);
  virtual grpc::Status Route(grpc::ServerContext& ctx, const v1::RouteRequest& req,
                             v1::RouteResponse& resp);
  virtual grpc::Status RemapContainer(grpc::ServerContext& ctx,
                                      const v1::RemapContainerRequest& req,
                                      v1::RemapContainerResponse& resp);
  virtual grpc::Status RegistryAuth(grpc::ServerContext& ctx, const v1::RegistryAuthRequest& req,
                                    v1::RegistryAuthResponse& resp);
  // Asked only by a proxy started with --authorize, which refuses the request unless this
  // answers allow (no opinion is a refusal there: fail-closed).
  virtual grpc::Status Authorize(grpc::ServerContext& ctx, const v1::AuthorizeRequest& req,
                                 v1::AuthorizeResponse& resp);
};

}  // namespace flocker::sdk
