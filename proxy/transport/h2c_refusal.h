// Refusing a gRPC client the way a gRPC server does. A client that dials gRPC through an
// HTTP/1.1 upgrade to h2c (cleartext HTTP/2; BuildKit's control API over the Docker API's
// /grpc) takes a refusal of the upgrade itself for "this server has no such service", and
// goes elsewhere. Refused here, it gets the upgrade, and then every call it makes on the
// connection ends with the given gRPC status and message (a trailers-only response, as gRPC
// servers answer a call they reject), which it reports as the call's error.
//
// Exchange::refuse_as_grpc() makes an exchange's refusals so. Only what that takes of HTTP/2: the connection preface, SETTINGS (and their ACK), PING
// (answered), HEADERS (each new stream answered once, at once), WINDOW_UPDATE for DATA the
// client sent anyway, GOAWAY. No header block is decoded: every call gets the same answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "net.h"

namespace flocker::transport {

// Whether the request asks to upgrade to h2c.
bool wants_h2c(const http::request<http::buffer_body>& request);

// The gRPC status a refusal's HTTP status stands for (gRPC's own mapping, inverted):
// 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 409
// ALREADY_EXISTS, 429 RESOURCE_EXHAUSTED, 501 UNIMPLEMENTED, 502/503/504 UNAVAILABLE, else UNKNOWN.
int grpc_status_for(unsigned http_status);

struct RefusalBytes {
  uint64_t in = 0, out = 0;
};

// Answers the h2c upgrade on `client` (101), then every gRPC call on the connection with
// `status` and `message`, until the client closes or stays silent for `idle`. `pending`:
// what was read from the client past its request.
Task<RefusalBytes> refuse_grpc_calls(Socket& client, beast::flat_buffer& pending, int status,
                                     std::string_view message,
                                     std::chrono::milliseconds idle = std::chrono::seconds(30));

// The HEADERS frame of a trailers-only gRPC response on `stream` (":status 200",
// content-type, grpc-status, grpc-message percent-encoded), END_STREAM and END_HEADERS set.
std::string grpc_refusal_frame(uint32_t stream, int status, std::string_view message);

}  // namespace flocker::transport
