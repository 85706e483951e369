#include "fanout.h"

#include "gather.h"

namespace flocker::transport {
namespace {

// Writes `piece` to every leg still sending; a leg that fails stops receiving.
Task<void> write_all(std::vector<FanoutLeg>& legs, std::vector<bool>& sending, std::string_view piece) {
  std::vector<Task<bool>> writes;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < legs.size(); ++i) {
    if (sending[i]) {
      writes.push_back(legs[i].stream->write(piece));
      which.push_back(i);
    }
  }
  auto ok = co_await gather(std::move(writes));
  for (std::size_t k = 0; k < ok.size(); ++k) {
    if (!ok[k]) sending[which[k]] = false;
  }
}

}  // namespace

Task<std::vector<FanoutLeg>> forward_to_many(Exchange& ex, std::vector<FanoutLeg> legs) {
  prepare_upstream_request(ex);
  // Connect and send the header everywhere.
  std::vector<Task<std::unique_ptr<StreamCall>>> starts;
  for (auto& leg : legs) {
    starts.push_back(StreamCall::start(ex.worker(), leg.address, ex.request().base(), leg.failure));
  }
  auto started = co_await gather(std::move(starts));
  std::vector<bool> sending(legs.size());
  for (std::size_t i = 0; i < legs.size(); ++i) {
    legs[i].stream = std::move(started[i]);
    sending[i] = legs[i].stream != nullptr;
  }
  // The body: raw pieces, framing untouched, to every leg.
  auto& body = ex.request_body();
  auto& pending = ex.client_buffer();
  while (!body.done()) {
    if (pending.size() == 0) {
      error_code ec;
      std::size_t n = co_await ex.client().async_read_some(pending.prepare(64 * 1024), ec_token(ec));
      if (ec) {
        ex.close_after();
        for (auto& leg : legs) {
          if (leg.stream) leg.stream->cancel();  // a truncated body must not be acted on
        }
        co_return legs;
      }
      pending.commit(n);
    }
    const char* data = static_cast<const char*>(pending.data().data());
    const std::size_t used = body.consume(data, pending.size());
    if (body.error()) {
      ex.close_after();
      for (auto& leg : legs) {
        if (leg.stream) leg.stream->cancel();
      }
      co_return legs;
    }
    co_await write_all(legs, sending, std::string_view(data, used));
    pending.consume(used);
  }
  ex.record().bytes_in += body.payload_bytes();
  // The responses' headers.
  std::vector<Task<bool>> heads;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < legs.size(); ++i) {
    if (legs[i].stream) {
      heads.push_back(legs[i].stream->read_header(legs[i].failure));
      which.push_back(i);
    }
  }
  auto ok = co_await gather(std::move(heads));
  for (std::size_t k = 0; k < ok.size(); ++k) {
    auto& leg = legs[which[k]];
    if (!ok[k]) {
      if (leg.failure.ec) leg.failure.error = "engine " + leg.address.text + " failed: " + leg.failure.ec.message();
      leg.stream.reset();
    }
  }
  co_return legs;
}

}  // namespace flocker::transport
