#include "grpc_probe.h"

#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <thread>

namespace flocker::test {
namespace {

grpc::ByteBuffer to_buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string from_buffer(const grpc::ByteBuffer& buffer) {
  grpc::Slice slice;
  auto copy = buffer;
  if (!copy.DumpToSingleSlice(&slice).ok()) return {};
  return std::string(reinterpret_cast<const char*>(slice.begin()), slice.size());
}

// Field 1, length-delimited: the only field of HealthCheckRequest.
std::string health_request(const std::string& service) {
  if (service.empty()) return {};
  return std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
}

}  // namespace

Health health_check(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                    std::chrono::milliseconds deadline) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  grpc::ByteBuffer request = to_buffer(health_request(service)), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  if (!done.get_future().get().ok()) return Health::kError;
  std::string bytes = from_buffer(response);  // HealthCheckResponse{status (1): varint}
  if (bytes.empty()) return Health::kUnknown;
  if (bytes.size() == 2 && bytes[0] == 0x08) return static_cast<Health>(bytes[1]);
  return Health::kError;
}

std::string reflection_list_services(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                               &cq);
  void* tag;
  bool ok;
  auto step = [&](int id) { return cq.Next(&tag, &ok) && ok && tag == reinterpret_cast<void*>(id); };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(1)) return {};
  // ServerReflectionRequest{list_services (7): ""}
  call->Write(to_buffer(std::string("\x3a\x00", 2)), reinterpret_cast<void*>(2));
  if (!step(2)) return {};
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  if (!step(3)) return {};
  call->WritesDone(reinterpret_cast<void*>(4));
  step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  return from_buffer(response);
}

bool wait_for_health(const std::shared_ptr<grpc::Channel>& channel, Health want,
                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (health_check(channel, "", std::chrono::milliseconds(500)) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace flocker::test
