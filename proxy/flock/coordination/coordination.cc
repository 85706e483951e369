#include "flock/coordination/coordination.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "docker/api_target.h"
#include "flock/control/grpc_await.h"

namespace flocker::flock {
namespace {

using TxnCall = GrpcCall<etcdserverpb::TxnRequest, etcdserverpb::TxnResponse>;

// "INSTANCE REQUEST" -> a message naming the proxy and request that hold a name.
std::string holder_of(const std::string& value) {
  const auto space = value.find(' ');
  if (space == std::string::npos) return "(a container being created)";
  return "(a container being created through flocker-proxy " + value.substr(0, space) + ", request " +
         value.substr(space + 1) + ")";
}

}  // namespace

Coordination::Coordination(CoordinationOptions options, std::string instance)
    : options_(std::move(options)), instance_(std::move(instance)), client_(options_.etcd) {}

Coordination::~Coordination() { stop(); }

void Coordination::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  generation_.reset();
  pins_.reset();
  session_.reset();  // revokes the lease
  placement_session_.reset();
}

void Coordination::start(std::function<void()> inventory_moved) {
  session_ = std::make_unique<etcd::Session>(client_, options_.ttl);
  placement_session_ = std::make_unique<etcd::Session>(client_, std::max(options_.placement_ttl, options_.ttl));
  pins_ = std::make_unique<etcd::Mirror>(client_, options_.prefix + "pins/");
  const std::string generation_key = options_.prefix + "inventory/generation";
  generation_ = std::make_unique<etcd::Mirror>(
      client_, generation_key,
      [moved = std::move(inventory_moved), generation_key,
       last = std::optional<std::string>()](const std::map<std::string, std::string>& content) mutable {
        auto it = content.find(generation_key);
        std::optional<std::string> now;
        if (it != content.end()) now = it->second;
        if (now == last) return;
        last = now;
        if (now) spdlog::info("inventory generation {} in etcd: asking the decider's List", *now);
        if (moved) moved();
      });
  writer_ = std::thread([this] { writer(); });
  spdlog::info("coordination through {} under {} (lease TTL {} s)", client_.name(), options_.prefix,
               options_.ttl.count());
}

bool Coordination::available() const { return session_ && session_->holds_lease(); }

std::string Coordination::unavailable_message(const std::string& why) const {
  std::string reason = why;
  if (reason.empty() && session_) reason = session_->problem();
  return client_.name() + " is unavailable" + (reason.empty() ? "" : " (" + reason + ")") +
         ": this flock's container names are reserved in etcd, so creates and renames are refused "
         "until it answers";
}

std::string Coordination::name_key(const std::string& name) const { return options_.prefix + "names/" + name; }

std::string Coordination::placed_key(const std::string& name) const {
  return options_.prefix + "placed/" + name;
}

std::string Coordination::pin_key(const std::string& client, const std::string& image) const {
  return options_.prefix + "pins/" + docker::url_encode(client) + "/" + docker::url_encode(image);
}

transport::Task<bool> Coordination::session_ready(etcd::Session& session,
                                                  std::chrono::system_clock::time_point deadline) {
  constexpr auto kStep = std::chrono::milliseconds(50);
  while (!session.holds_lease()) {
    if (std::chrono::system_clock::now() + kStep >= deadline) co_return false;
    session.nudge();
    transport::asio::steady_timer pause(co_await transport::asio::this_coro::executor, kStep);
    transport::error_code ec;
    co_await pause.async_wait(transport::ec_token(ec));
  }
  co_return true;
}

transport::Task<ClaimResult> Coordination::claim_name(const std::string& name, const std::string& request_id) {
  ClaimResult result;
  // etcd answers UNAVAILABLE while it elects a leader (about a second after one dies), and a
  // lease lost meanwhile is granted again after: wait for both until the deadline rather than
  // refuse a create a new leader would take.
  const auto deadline = std::chrono::system_clock::now() + client_.options().timeout;
  // One co_await per statement, never inside && (DEVELOPERS.md, coroutine rule 1).
  bool ready = false;
  if (session_) ready = co_await session_ready(*session_, deadline);
  const int64_t lease = ready ? session_->lease() : 0;
  if (lease == 0) {
    result.message = unavailable_message();
    co_return result;
  }
  const std::string key = name_key(name);
  result.value = instance_ + " " + request_id;
  std::shared_ptr<TxnCall> call;
  grpc::Status status;
  while (true) {
    call = std::make_shared<TxnCall>();
    call->context.set_deadline(deadline);
    etcd::Client::wait_for_members(call->context);
    auto* absent = call->request.add_compare();
    absent->set_key(key);
    absent->set_target(etcdserverpb::Compare::CREATE);
    absent->set_result(etcdserverpb::Compare::EQUAL);
    absent->set_create_revision(0);
    auto* put = call->request.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(result.value);
    put->set_lease(lease);
    // Where a proxy that stopped mid-create sent the name, if one did.
    call->request.add_success()->mutable_request_range()->set_key(placed_key(name));
    call->request.add_failure()->mutable_request_range()->set_key(key);
    status = co_await await_grpc(call, [this](auto* ctx, auto* req, auto* resp, auto cb) {
      client_.kv().async()->Txn(ctx, req, resp, std::move(cb));
    });
    const auto retry_at = std::chrono::system_clock::now() + std::chrono::milliseconds(100);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || retry_at >= deadline) break;
    transport::asio::steady_timer pause(co_await transport::asio::this_coro::executor,
                                        std::chrono::milliseconds(100));
    transport::error_code ec;
    co_await pause.async_wait(transport::ec_token(ec));
  }
  if (!status.ok()) {
    result.message = unavailable_message(status.error_message());
    co_return result;
  }
  if (call->response.succeeded()) {
    result.claim = Claim::kReserved;
    if (call->response.responses_size() > 1) {
      const auto& placed = call->response.responses(1).response_range();
      if (placed.kvs_size() > 0) result.placed_host = placed.kvs(0).value();
    }
    co_return result;
  }
  result.claim = Claim::kTaken;
  std::string holder;
  if (call->response.responses_size() > 0) {
    const auto& range = call->response.responses(0).response_range();
    if (range.kvs_size() > 0) holder = range.kvs(0).value();
  }
  result.message = holder_of(holder);
  co_return result;
}

transport::Task<bool> Coordination::place_name(const std::string& name, const std::string& host) {
  const auto deadline = std::chrono::system_clock::now() + client_.options().timeout;
  bool ready = false;
  if (placement_session_) ready = co_await session_ready(*placement_session_, deadline);
  const int64_t lease = ready ? placement_session_->lease() : 0;
  if (lease == 0) co_return false;
  using PutCall = GrpcCall<etcdserverpb::PutRequest, etcdserverpb::PutResponse>;
  auto call = std::make_shared<PutCall>();
  client_.set_deadline(call->context);
  call->request.set_key(placed_key(name));
  call->request.set_value(host);
  call->request.set_lease(lease);
  const grpc::Status status = co_await await_grpc(call, [this](auto* ctx, auto* req, auto* resp, auto cb) {
    client_.kv().async()->Put(ctx, req, resp, std::move(cb));
  });
  co_return status.ok();
}

void Coordination::release_name(const std::string& name, const std::string& value) {
  const int64_t lease = session_ ? session_->lease() : 0;
  enqueue({[this, key = name_key(name), placed = placed_key(name), value, lease] {
             if (!session_ || session_->lease() != lease) return true;  // gone with its lease
             grpc::ClientContext context;
             client_.set_deadline(context);
             etcdserverpb::TxnRequest request;
             auto* ours = request.add_compare();  // not one another proxy took since
             ours->set_key(key);
             ours->set_target(etcdserverpb::Compare::VALUE);
             ours->set_result(etcdserverpb::Compare::EQUAL);
             ours->set_value(value);
             request.add_success()->mutable_request_delete_range()->set_key(key);
             request.add_success()->mutable_request_delete_range()->set_key(placed);
             etcdserverpb::TxnResponse response;
             return client_.kv().Txn(&context, request, &response).ok();
           },
           "release of name " + name});
}

void Coordination::pin(const std::string& client, const std::string& image, const std::string& host,
                       std::chrono::seconds ttl) {
  enqueue({[this, key = pin_key(client, image), host, ttl] {
             int64_t lease = 0;
             if (!client_.grant(ttl, lease).ok()) return false;
             return client_.put(key, host, lease).ok();
           },
           "pin of " + image + " to " + host});
}

std::optional<std::string> Coordination::pinned(const std::string& client, const std::string& image) const {
  if (!pins_) return std::nullopt;
  return pins_->get(pin_key(client, image));
}

void Coordination::unpin(const std::string& client, const std::string& image) {
  if (!pinned(client, image)) return;
  enqueue({[this, key = pin_key(client, image)] {
             grpc::ClientContext context;
             client_.set_deadline(context);
             etcdserverpb::DeleteRangeRequest request;
             request.set_key(key);
             etcdserverpb::DeleteRangeResponse response;
             return client_.kv().DeleteRange(&context, request, &response).ok();
           },
           "unpin of " + image});
}

void Coordination::enqueue(Write write) {
  {
    std::lock_guard lock(mu_);
    writes_.push_back(std::move(write));
  }
  wake_.notify_one();
}

// One write at a time, in order; a failed one is tried again (etcd down) until it succeeds.
void Coordination::writer() {
  std::unique_lock lock(mu_);
  bool warned = false;
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !writes_.empty(); });
    if (stopping_) return;
    Write write = writes_.front();
    lock.unlock();
    const bool done = write.attempt();
    lock.lock();
    if (done) {
      writes_.pop_front();
      if (warned) spdlog::info("{}: writes go through again", client_.name());
      warned = false;
      continue;
    }
    if (!warned) spdlog::warn("{}: {} failed; retrying", client_.name(), write.what);
    warned = true;
    wake_.wait_for(lock, std::chrono::milliseconds(300), [this] { return stopping_; });
  }
}

}  // namespace flocker::flock
