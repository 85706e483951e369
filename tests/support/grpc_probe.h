// Test helper: the standard gRPC services a decider serves, called without their protos
// (Debian ships no C++ stubs for grpc.health.v1 or reflection, and the wire format of the
// few fields we need is tiny).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

namespace flocker::test {

enum class Health { kUnknown = 0, kServing = 1, kNotServing = 2, kError = -1 };

// grpc.health.v1.Health/Check for `service` ("" = the whole server).
Health health_check(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                    std::chrono::milliseconds deadline = std::chrono::seconds(2));

// grpc.reflection.v1alpha.ServerReflection list_services: the raw response bytes (which
// contain each service name), or "" on error.
std::string reflection_list_services(const std::shared_ptr<grpc::Channel>& channel);

// Polls health until it equals `want` or `timeout` passes.
bool wait_for_health(const std::shared_ptr<grpc::Channel>& channel, Health want,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace flocker::test
