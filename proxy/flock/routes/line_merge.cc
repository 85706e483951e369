#include "flock/routes/line_merge.h"

#include <sys/socket.h>

#include "transport/chunked_writer.h"
#include "transport/companion.h"
#include "transport/gather.h"

namespace flocker::flock {

namespace asio = transport::asio;
using transport::Task;

namespace {

struct Shared {
  Shared(transport::Exchange& e, const asio::any_io_executor& ex) : writer(e), lock(ex) {}
  transport::ChunkedWriter writer;
  transport::AsyncLock lock;
  std::vector<LineSource>* sources = nullptr;
  bool client_gone = false;
  bool done = false;

  void end_all() {
    for (auto& s : *sources) s.stream->cancel();
  }
};

Task<bool> pump(Shared& shared, LineSource& source, const LineTag& tag) {
  transport::LineSplitter lines;
  transport::error_code ec;
  for (;;) {
    auto piece = co_await source.stream->next(ec);
    if (!piece || shared.client_gone) break;
    std::string out;
    lines.feed(*piece, [&](std::string_view line) {
      out += tag(line, source.host);
      out += '\n';
    });
    if (out.empty()) continue;
    co_await shared.lock.lock();
    bool ok = !shared.client_gone;
    if (ok) ok = co_await shared.writer.write(out);
    shared.lock.unlock();
    if (!ok) {
      shared.client_gone = true;
      shared.end_all();
      break;
    }
  }
  co_return true;
}

// Ends the streams when the client goes away while they are idle.
Task<void> watch_client(Shared& shared, transport::Exchange& ex) {
  transport::error_code ec;
  co_await ex.client().async_wait(transport::Socket::wait_read, transport::ec_token(ec));
  if (ec || shared.done) co_return;
  char byte;
  ssize_t n = ::recv(ex.client().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    shared.client_gone = true;
    ex.record().client_gone = true;
    shared.end_all();
  }
}

}  // namespace

Task<void> merge_line_streams(transport::Exchange& ex, std::vector<LineSource> sources, LineTag tag,
                              std::vector<std::string> first_lines, std::string_view content_type) {
  const auto executor = co_await asio::this_coro::executor;
  Shared shared(ex, executor);
  shared.sources = &sources;
  if (!co_await shared.writer.start(transport::http::status::ok, content_type)) {
    shared.end_all();
    co_return;
  }
  for (const auto& line : first_lines) {
    if (!co_await shared.writer.write(line + "\n")) {
      shared.end_all();
      co_return;
    }
  }
  transport::Companion watcher(executor);
  watcher.start(watch_client(shared, ex));
  std::vector<Task<bool>> pumps;
  for (auto& s : sources) pumps.push_back(pump(shared, s, tag));
  co_await transport::gather(std::move(pumps));
  shared.done = true;
  transport::error_code ignored;
  ex.client().cancel(ignored);
  co_await watcher.join();
  if (shared.client_gone) {
    ex.close_after();
  } else {
    co_await shared.writer.finish();
  }
}

}  // namespace flocker::flock
