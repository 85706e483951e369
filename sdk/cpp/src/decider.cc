#include "flocker/sdk/decider.h"

namespace flocker::sdk {

grpc::Status no_opinion() {
  return {grpc::StatusCode::UNIMPLEMENTED, "no opinion: the decider does not implement this"};
}

grpc::Status Decider::List(grpc::ServerContext&, const v1::ListRequest&, v1::ListResponse&) {
  return no_opinion();
}
grpc::Status Decider::Route(grpc::ServerContext&, const v1::RouteRequest&, v1::RouteResponse&) {
  return no_opinion();
}
grpc::Status Decider::RemapContainer(grpc::ServerContext&, const v1::RemapContainerRequest&,
                                     v1::RemapContainerResponse&) {
  return no_opinion();
}
grpc::Status Decider::RegistryAuth(grpc::ServerContext&, const v1::RegistryAuthRequest&,
                                   v1::RegistryAuthResponse&) {
  return no_opinion();
}

grpc::Status Decider::Authorize(grpc::ServerContext&, const v1::AuthorizeRequest&, v1::AuthorizeResponse&) {
  return no_opinion();
}

}  // namespace flocker::sdk
