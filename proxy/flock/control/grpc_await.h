// Awaiting one call of gRPC's callback API from a coroutine: the call is started on gRPC's
// threads and the coroutine resumes on its own executor when it ends. No I/O thread ever
// blocks on gRPC. Used for the decider (decider_client) and etcd (coordination).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "transport/net.h"

namespace flocker::flock {

// One call: its context, request and response live on the heap until gRPC's callback (on a
// gRPC thread) has posted the completion back to the coroutine's executor.
template <class Request, class Response>
struct GrpcCall {
  grpc::ClientContext context;
  Request request;
  Response response;
};

// Runs `start(&context, &request, &response, callback)` and suspends the coroutine until
// the callback; resumes on the coroutine's executor with the call's status.
template <class Call, class Start>
transport::Task<grpc::Status> await_grpc(std::shared_ptr<Call> call, Start start) {
  namespace asio = transport::asio;
  // The coroutine's own executor, named explicitly: the completion must resume the coroutine
  // on its I/O thread (a use_awaitable handler's associated executor is not that in Boost
  // 1.74, and resuming elsewhere races with the thread that owns the frame).
  auto executor = co_await asio::this_coro::executor;
  grpc::Status status = co_await asio::async_initiate<decltype(asio::use_awaitable), void(grpc::Status)>(
      [&call, executor, &start](auto handler) {
        using Handler = decltype(handler);
        // gRPC wants a copyable callback; the handler is move-only: share it, and move it
        // out to invoke it once, as an rvalue (an awaitable handler left in its holder would
        // resume the coroutine again when the holder is destroyed).
        auto held = std::make_shared<std::optional<Handler>>(std::move(handler));
        auto work = std::make_shared<asio::executor_work_guard<asio::any_io_executor>>(executor);
        // The callback must not own `call`: gRPC keeps the callback in the call's own arena,
        // which the ClientContext in `call` releases. The coroutine owns `call` and resumes
        // only after the callback has posted, as gRPC's callback examples do.
        start(&call->context, &call->request, &call->response, [held, work, executor](grpc::Status s) {
          asio::post(executor, [held, work, s]() mutable {
            Handler h = std::move(**held);
            held->reset();
            work->reset();
            std::move(h)(s);
          });
        });
      },
      asio::use_awaitable);
  co_return status;
}

}  // namespace flocker::flock
