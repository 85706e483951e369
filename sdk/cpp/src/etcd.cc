#include "flocker/sdk/etcd.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace flocker::etcd {
namespace {

bool is_ip_literal(std::string_view endpoint) {
  if (!endpoint.empty() && endpoint.front() == '[') return true;  // [v6]:port
  const auto colon = endpoint.rfind(':');
  const auto host = endpoint.substr(0, colon);
  if (host.empty()) return false;
  for (char c : host) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

// gRPC's target for the members: "ipv4:a:1,b:2" lets the channel spread calls over all of
// them and skip the ones that are down.
std::string target_of(const std::vector<std::string>& endpoints) {
  if (endpoints.size() == 1 && !is_ip_literal(endpoints[0])) return "dns:///" + endpoints[0];
  bool v6 = false;
  for (const auto& e : endpoints) {
    if (!is_ip_literal(e)) {
      throw std::invalid_argument("etcd endpoint '" + e +
                                  "': with several endpoints, each must be an IP address");
    }
    v6 = v6 || e.front() == '[';
  }
  return std::string(v6 ? "ipv6:" : "ipv4:") + join(endpoints);
}

}  // namespace

std::vector<std::string> parse_endpoints(std::string_view text) {
  for (std::string_view scheme : {"etcd://", "etcds://", "http://", "https://"}) {
    if (text.substr(0, scheme.size()) == scheme) {
      text.remove_prefix(scheme.size());
      break;
    }
  }
  std::vector<std::string> out;
  while (true) {
    const auto comma = text.find(',');
    std::string part(text.substr(0, comma));
    if (part.empty() || part.find('/') != std::string::npos || part.find(' ') != std::string::npos) {
      throw std::invalid_argument("etcd endpoints: '" + part + "' is not HOST:PORT");
    }
    const bool bracketed = part.front() == '[';
    const auto close = part.find(']');
    if (bracketed && close == std::string::npos) throw std::invalid_argument("etcd endpoints: '" + part + "' has no ']'");
    const auto colon = part.rfind(':');
    if (colon == std::string::npos || (bracketed && colon < close)) part += ":2379";
    out.push_back(std::move(part));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.size() > 1) target_of(out);  // throws for names among several
  return out;
}

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

Client::Client(Options options) : options_(std::move(options)) {
  if (options_.endpoints.empty()) throw std::invalid_argument("etcd: no endpoint");
  name_ = "etcd (" + join(options_.endpoints) + ")";
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  if (options_.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options_.ca_pem;
    ssl.pem_cert_chain = options_.cert_pem;
    ssl.pem_private_key = options_.key_pem;
    credentials = grpc::SslCredentials(ssl);
    if (!options_.server_name.empty()) args.SetSslTargetNameOverride(options_.server_name);
  }
  args.SetLoadBalancingPolicyName("round_robin");
  // A member that went away without a word (a frozen machine) is found out in seconds.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Reconnect soon after a member comes back: the default backoff grows to two minutes.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  // Also the connect timeout (default 20 s): a member that does not finish the handshake
  // (a frozen machine) is given up on after 2 s, and the others serve meanwhile.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 2000);
  channel_ = grpc::CreateCustomChannel(target_of(options_.endpoints), credentials, args);
  kv_ = etcdserverpb::KV::NewStub(channel_);
  lease_ = etcdserverpb::Lease::NewStub(channel_);
  watch_ = etcdserverpb::Watch::NewStub(channel_);
}

void Client::set_deadline(grpc::ClientContext& context) const {
  context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
  wait_for_members(context);
}

void Client::wait_for_members(grpc::ClientContext& context) {
  // A call waits (up to its deadline) for a connection rather than failing at once while
  // the channel reconnects. The waiting call is also what drives the reconnection: in a
  // process that serves no gRPC, nothing else polls the channel but gRPC's backup poller,
  // every 5 s (seen: a restarted etcd unnoticed for 10 s).
  context.set_wait_for_ready(true);
}

grpc::Status Client::range_prefix(const std::string& prefix, std::map<std::string, std::string>& out,
                                  int64_t& revision) {
  grpc::ClientContext context;
  set_deadline(context);
  etcdserverpb::RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(prefix_end(prefix));
  etcdserverpb::RangeResponse response;
  auto status = kv_->Range(&context, request, &response);
  if (!status.ok()) return status;
  out.clear();
  for (const auto& kv : response.kvs()) out[kv.key()] = kv.value();
  revision = response.header().revision();
  return status;
}

grpc::Status Client::put(const std::string& key, const std::string& value, int64_t lease) {
  grpc::ClientContext context;
  set_deadline(context);
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  return kv_->Put(&context, request, &response);
}

grpc::Status Client::grant(std::chrono::seconds ttl, int64_t& lease) {
  grpc::ClientContext context;
  set_deadline(context);
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl.count());
  etcdserverpb::LeaseGrantResponse response;
  auto status = lease_->LeaseGrant(&context, request, &response);
  if (status.ok() && !response.error().empty()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, response.error());
  }
  if (status.ok()) lease = response.id();
  return status;
}

// ----- Session

Session::Session(Client& client, std::chrono::seconds ttl) : client_(client), ttl_(ttl) {
  thread_ = std::thread([this] { run(); });
}

Session::~Session() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (const int64_t lease = lease_.load()) {
    grpc::ClientContext context;
    client_.set_deadline(context);
    etcdserverpb::LeaseRevokeRequest request;
    request.set_id(lease);
    etcdserverpb::LeaseRevokeResponse response;
    client_.lease().LeaseRevoke(&context, request, &response);  // best effort: else the TTL
  }
}

std::string Session::problem() const {
  std::lock_guard lock(mu_);
  return problem_;
}

void Session::nudge() {
  {
    std::lock_guard lock(mu_);
    nudged_ = true;
  }
  wake_.notify_all();
}

void Session::set_problem(std::string why) {
  std::lock_guard lock(mu_);
  problem_ = std::move(why);
}

bool Session::keep_alive(int64_t lease) {
  grpc::ClientContext context;
  client_.set_deadline(context);
  auto stream = client_.lease().LeaseKeepAlive(&context);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseKeepAliveResponse response;
  const bool answered = stream->Write(request) && stream->Read(&response);
  stream->WritesDone();
  auto status = stream->Finish();
  if (!answered) {
    set_problem(status.ok() ? "the keep-alive got no answer" : status.error_message());
    return false;
  }
  if (response.ttl() <= 0) {  // expired while we could not reach etcd
    set_problem("the lease expired");
    lease_ = 0;
    return false;
  }
  return true;
}

void Session::run() {
  const auto interval = std::min<std::chrono::milliseconds>(ttl_ / 3, std::chrono::seconds(1));
  auto last_ok = std::chrono::steady_clock::now();
  bool was_alive = false;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
    }
    bool ok = false;
    const bool had_lease = lease_.load() != 0;
    if (int64_t lease = lease_.load()) {
      ok = keep_alive(lease);
    } else {
      int64_t granted = 0;
      auto status = client_.grant(ttl_, granted);
      ok = status.ok();
      if (ok) {
        lease_ = granted;
        spdlog::info("{}: lease {:x} granted ({} s)", client_.name(), granted, ttl_.count());
      } else {
        set_problem(status.error_message());
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (ok) last_ok = now;
    // Past the TTL without a keep-alive the lease is gone on etcd's side: ask for a new one.
    if (!ok && lease_.load() && now - last_ok > ttl_) lease_ = 0;
    alive_ = ok;
    if (ok != was_alive) {
      if (ok) {
        spdlog::info("{} answers: name reservations work", client_.name());
      } else {
        spdlog::warn("{} does not answer ({}): creates and renames are refused until it does",
                     client_.name(), problem());
      }
    }
    was_alive = ok;
    // A lease found gone (etcd answered that it expired, or the TTL passed without an answer)
    // is granted again at once: etcd may be back, and claims wait for it.
    if (had_lease && lease_.load() == 0) continue;
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, ok ? interval : std::chrono::milliseconds(300), [this] { return stopping_ || nudged_; });
    nudged_ = false;
    if (stopping_) return;
  }
}

// ----- Mirror

Mirror::Mirror(Client& client, std::string prefix, OnChange on_change)
    : client_(client), prefix_(std::move(prefix)), on_change_(std::move(on_change)) {
  thread_ = std::thread([this] { run(); });
}

Mirror::~Mirror() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (stream_context_) stream_context_->TryCancel();
  }
  wake_.notify_all();
  thread_.join();
}

std::optional<std::string> Mirror::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = content_.find(key);
  if (it == content_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> Mirror::snapshot() const {
  std::lock_guard lock(mu_);
  return content_;
}

bool Mirror::sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

void Mirror::run() {
  bool warned = false;
  while (true) {
    std::map<std::string, std::string> content;
    int64_t revision = 0;
    auto status = client_.range_prefix(prefix_, content, revision);
    if (!status.ok()) {
      if (!warned) spdlog::warn("{}: cannot read {} ({}); retrying", client_.name(), prefix_, status.error_message());
      warned = true;
      if (!sleep(std::chrono::milliseconds(500))) return;
      continue;
    }
    if (warned) spdlog::info("{}: reading {} again", client_.name(), prefix_);
    warned = false;
    {
      std::lock_guard lock(mu_);
      content_ = content;
    }
    synced_ = true;
    if (on_change_) on_change_(content);

    grpc::ClientContext context;
    Client::wait_for_members(context);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stream_context_ = &context;
    }
    auto stream = client_.watch().Watch(&context);
    etcdserverpb::WatchRequest request;
    auto* create = request.mutable_create_request();
    create->set_key(prefix_);
    create->set_range_end(prefix_end(prefix_));
    create->set_start_revision(revision + 1);  // nothing between the read and the watch is lost
    etcdserverpb::WatchResponse response;
    if (stream->Write(request)) {
      while (stream->Read(&response)) {
        if (response.canceled()) break;  // compacted past our revision: read again
        if (response.events().empty()) continue;
        for (const auto& event : response.events()) {
          if (event.type() == etcdserverpb::Event::DELETE) {
            content.erase(event.kv().key());
          } else {
            content[event.kv().key()] = event.kv().value();
          }
        }
        {
          std::lock_guard lock(mu_);
          content_ = content;
        }
        if (on_change_) on_change_(content);
      }
    }
    context.TryCancel();
    stream->Finish();
    {
      std::lock_guard lock(mu_);
      stream_context_ = nullptr;
    }
    if (!sleep(std::chrono::milliseconds(200))) return;
  }
}

}  // namespace flocker::etcd
