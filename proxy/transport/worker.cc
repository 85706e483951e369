#include "worker.h"

#include <fmt/format.h>

#include <random>

namespace flocker::transport {

Worker::Worker(unsigned index, PoolOptions pool_options)
    : index_(index), pool_(context_, pool_options) {
  std::random_device random;
  id_prefix_ = random();
}

Worker::SessionList::iterator Worker::add_session(Socket* client) {
  return sessions_.insert(sessions_.end(), SessionEntry{client, nullptr, true});
}

void Worker::remove_session(SessionList::iterator it) { sessions_.erase(it); }

void Worker::begin_drain() {
  draining_ = true;
  pool_.close_all();
  for (auto& s : sessions_) {
    error_code ignored;
    if (s.idle) s.client->close(ignored);
  }
}

void Worker::close_everything() {
  for (auto& s : sessions_) {
    error_code ignored;
    s.client->close(ignored);
    if (s.upstream) s.upstream->close(ignored);
  }
}

std::string Worker::next_request_id() {
  return fmt::format("{:08x}-{:x}", id_prefix_ + index_, ++requests_);
}

Alarm Worker::slow_answer_alarm(const Address& upstream) {
  if (!slow_hook_ || slow_after_.count() <= 0) return {};
  return Alarm(context_.get_executor(), slow_after_, [this, upstream = upstream.text] { slow_hook_(upstream); });
}

}  // namespace flocker::transport
