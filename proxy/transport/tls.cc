#include "tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/write.hpp>
#include <cstring>
#include <stdexcept>

#include "deadline.h"
#include "lingering_close.h"

namespace flocker::transport {
namespace {

std::string openssl_error(std::string_view what) {
  std::string out(what);
  unsigned long e = ERR_get_error();
  if (e) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

BioPtr pem_bio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

void use_certificate(SSL_CTX* ctx, const TlsMaterial& m) {
  if (!m.cert_pem.empty()) {
    auto bio = pem_bio(m.cert_pem);
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (!cert || SSL_CTX_use_certificate(ctx, cert) != 1) {
      X509_free(cert);
      throw std::runtime_error(openssl_error("bad certificate PEM"));
    }
    X509_free(cert);
    while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      SSL_CTX_add_extra_chain_cert(ctx, extra);  // takes ownership
    }
    ERR_clear_error();  // the end of the PEM reads as an error
  } else if (!m.cert_file.empty() &&
             SSL_CTX_use_certificate_chain_file(ctx, m.cert_file.c_str()) != 1) {
    throw std::runtime_error(openssl_error("cannot load certificate " + m.cert_file));
  }
  if (!m.key_pem.empty()) {
    auto bio = pem_bio(m.key_pem);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (!key || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
      EVP_PKEY_free(key);
      throw std::runtime_error(openssl_error("bad private key PEM"));
    }
    EVP_PKEY_free(key);
  } else if (!m.key_file.empty() &&
             SSL_CTX_use_PrivateKey_file(ctx, m.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error(openssl_error("cannot load key " + m.key_file));
  }
  const bool has_cert = !m.cert_pem.empty() || !m.cert_file.empty();
  const bool has_key = !m.key_pem.empty() || !m.key_file.empty();
  if (has_cert != has_key)
    throw std::runtime_error("a certificate needs its key, and a key its certificate");
  if (has_cert && SSL_CTX_check_private_key(ctx) != 1) {
    throw std::runtime_error(openssl_error("the key does not match the certificate"));
  }
}

// Returns whether a CA was given.
bool use_ca(SSL_CTX* ctx, const TlsMaterial& m) {
  if (!m.ca_pem.empty()) {
    auto bio = pem_bio(m.ca_pem);
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      added += X509_STORE_add_cert(store, ca) == 1;
      X509_free(ca);
    }
    ERR_clear_error();
    if (!added) throw std::runtime_error("no certificate in the CA PEM");
    return true;
  }
  if (!m.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, m.ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error(openssl_error("cannot load CA " + m.ca_file));
    }
    return true;
  }
  return false;
}

SSL_CTX* new_context(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (!ctx) throw std::runtime_error(openssl_error("cannot create a TLS context"));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);  // as dockerd
  // A peer closing TCP without close_notify is an end of stream, as Go treats it.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

std::string subject_of(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return "";
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  X509_free(cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// Runs one OpenSSL call until it completes, waiting on the socket for what OpenSSL asks
// (the socket is non-blocking). Returns the call's result; `err` the SSL_get_error class.
template <class Op>
Task<int> ssl_io(Socket& tcp, SSL* ssl, Op op, int& err) {
  for (;;) {
    ERR_clear_error();
    const int r = op();
    if (r > 0) {
      err = SSL_ERROR_NONE;
      co_return r;
    }
    err = SSL_get_error(ssl, r);
    error_code ec;
    if (err == SSL_ERROR_WANT_READ) {
      co_await tcp.async_wait(Socket::wait_read, ec_token(ec));
    } else if (err == SSL_ERROR_WANT_WRITE) {
      co_await tcp.async_wait(Socket::wait_write, ec_token(ec));
    } else {
      co_return r;
    }
    if (ec) {
      err = SSL_ERROR_SYSCALL;
      co_return -1;
    }
  }
}

// One terminated connection: the TLS socket, the plain end of the pair, and the pump's two
// directions, each holding the link until it ends.
struct Link {
  Link(Socket t, Socket p, SSL* s, std::string who)
      : tcp(std::move(t)), plain(std::move(p)), ssl(s), linger(tcp.get_executor()), peer(std::move(who)) {}
  ~Link() { SSL_free(ssl); }
  void abort() {
    error_code ignored;
    tcp.close(ignored);
    plain.close(ignored);
  }
  Socket tcp;
  Socket plain;
  SSL* ssl;
  asio::steady_timer linger;
  std::string peer;  // for the log: "client 10.0.0.7:51234", "engine tcp://10.0.0.5:2376"
};

constexpr std::size_t kPumpBuffer = 16 * 1024;
// After the plain side has ended, how long the peer may go on sending (a half-closed hijack)
// before the connection is closed.
constexpr auto kLinger = std::chrono::seconds(60);

Task<void> tls_to_plain(std::shared_ptr<Link> l) {
  std::unique_ptr<char[]> buf(new char[kPumpBuffer]);
  for (;;) {
    int err = 0;
    const int n = co_await ssl_io(
        l->tcp, l->ssl, [&] { return SSL_read(l->ssl, buf.get(), kPumpBuffer); }, err);
    if (n <= 0) {
      if (err == SSL_ERROR_ZERO_RETURN) {
        error_code ignored;
        l->plain.shutdown(Socket::shutdown_send, ignored);
      } else {
        // With TLS 1.3 a peer refusing our certificate says so only now, after the handshake.
        if (err == SSL_ERROR_SSL) spdlog::warn("TLS with {}: {}", l->peer, openssl_error("connection failed"));
        l->abort();
      }
      co_return;
    }
    error_code ec;
    co_await asio::async_write(l->plain, asio::buffer(buf.get(), static_cast<std::size_t>(n)),
                               ec_token(ec));
    if (ec) {
      l->abort();
      co_return;
    }
  }
}

Task<void> plain_to_tls(std::shared_ptr<Link> l) {
  std::unique_ptr<char[]> buf(new char[kPumpBuffer]);
  for (;;) {
    error_code ec;
    const std::size_t n =
        co_await l->plain.async_read_some(asio::buffer(buf.get(), kPumpBuffer), ec_token(ec));
    if (ec == asio::error::eof) {
      int err = 0;
      co_await ssl_io(
          l->tcp, l->ssl, [&] { return SSL_shutdown(l->ssl) >= 0 ? 1 : -1; }, err);
      error_code ignored;
      l->tcp.shutdown(Socket::shutdown_send, ignored);
      l->linger.expires_after(kLinger);
      l->linger.async_wait([weak = std::weak_ptr<Link>(l)](error_code e) {
        if (auto link = weak.lock(); link && !e) link->abort();
      });
      co_return;
    }
    if (ec) {
      l->abort();
      co_return;
    }
    int err = 0;
    const int w = co_await ssl_io(
        l->tcp, l->ssl, [&] { return SSL_write(l->ssl, buf.get(), static_cast<int>(n)); }, err);
    if (w <= 0) {
      l->abort();
      co_return;
    }
  }
}

// The plain pair, one end returned, the other pumped to and from the TLS connection.
std::optional<Socket> start_pump(Socket& tcp, SSL* ssl, std::string peer, std::string& why) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) {
    why = std::string("socketpair: ") + std::strerror(errno);
    SSL_free(ssl);
    return std::nullopt;
  }
  auto ex = tcp.get_executor();
  Socket mine(ex, Protocol(AF_UNIX, 0), fds[0]);
  Socket theirs(ex, Protocol(AF_UNIX, 0), fds[1]);
  error_code ignored;
  theirs.non_blocking(true, ignored);  // as every socket the sessions and the pool use
  auto link = std::make_shared<Link>(std::move(tcp), std::move(mine), ssl, std::move(peer));
  asio::co_spawn(ex, tls_to_plain(link), asio::detached);
  asio::co_spawn(ex, plain_to_tls(link), asio::detached);
  return theirs;
}

// The handshake, with its deadline (past it, the socket is closed).
Task<bool> handshake(Socket& tcp, SSL* ssl, bool accept, std::chrono::milliseconds timeout,
                     std::string& why) {
  auto deadline = arm(tcp, timeout);
  int err = 0;
  const int r = co_await ssl_io(
      tcp, ssl, [&] { return accept ? SSL_accept(ssl) : SSL_connect(ssl); }, err);
  error_code timed_out;
  disarm(deadline, timed_out);
  if (r == 1) co_return true;
  if (timed_out) {
    why = "TLS handshake timed out";
  } else if (err == SSL_ERROR_SSL) {
    why = openssl_error("TLS handshake failed");
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  } else {
    why = "TLS handshake failed: the peer closed the connection";
  }
  ERR_clear_error();
  co_return false;
}

}  // namespace

// Boost's error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
const boost::system::error_category& tls_category() {
  struct Category : boost::system::error_category {
    const char* name() const noexcept override { return "tls"; }
    std::string message(int) const override {
      return "TLS handshake failed (the proxy's log says why)";
    }
  };
  static const Category category;
  return category;
}
#pragma GCC diagnostic pop

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

std::shared_ptr<TlsContext> TlsContext::server(const TlsMaterial& material) {
  SSL_CTX* ctx = new_context(TLS_server_method());
  std::shared_ptr<TlsContext> out(new TlsContext(ctx, false));
  if (material.cert_file.empty() && material.cert_pem.empty()) {
    throw std::runtime_error("a TLS server needs a certificate and its key");
  }
  use_certificate(ctx, material);
  if (use_ca(ctx, material)) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    out->verify_ = true;
    // Tell clients which CAs are accepted (the docker CLI picks its certificate by it).
    if (!material.ca_file.empty()) {
      if (auto* names = SSL_load_client_CA_file(material.ca_file.c_str()))
        SSL_CTX_set_client_CA_list(ctx, names);
    }
  }
  static const unsigned char kSessionContext[] = "flocker";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return out;
}

std::shared_ptr<TlsContext> TlsContext::client(const TlsMaterial& material, bool verify) {
  SSL_CTX* ctx = new_context(TLS_client_method());
  std::shared_ptr<TlsContext> out(new TlsContext(ctx, verify));
  use_certificate(ctx, material);
  if (!use_ca(ctx, material)) SSL_CTX_set_default_verify_paths(ctx);
  SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  return out;
}

Task<std::optional<TlsAccepted>> tls_accept(Socket tcp, std::shared_ptr<TlsContext> context,
                                            std::chrono::milliseconds timeout, std::string peer,
                                            std::string& why) {
  SSL* ssl = SSL_new(context->native());
  if (!ssl || SSL_set_fd(ssl, tcp.native_handle()) != 1) {
    why = openssl_error("cannot start TLS");
    SSL_free(ssl);
    co_return std::nullopt;
  }
  if (!co_await handshake(tcp, ssl, true, timeout, why)) {
    SSL_free(ssl);
    lingering_close(std::move(tcp));  // so that the client reads the alert saying why
    co_return std::nullopt;
  }
  std::string subject = subject_of(ssl);
  auto plain = start_pump(tcp, ssl, "client " + peer, why);
  if (!plain) co_return std::nullopt;
  co_return TlsAccepted{std::move(*plain), std::move(subject)};
}

Task<std::optional<Socket>> tls_connect(Socket tcp, const TlsClient& client,
                                        std::chrono::milliseconds timeout, std::string peer,
                                        std::string& why) {
  SSL* ssl = SSL_new(client.context->native());
  if (!ssl || SSL_set_fd(ssl, tcp.native_handle()) != 1) {
    why = openssl_error("cannot start TLS");
    SSL_free(ssl);
    co_return std::nullopt;
  }
  const std::string& name = client.server_name;
  unsigned char ip[16];
  const bool is_ip =
      inet_pton(AF_INET, name.c_str(), ip) == 1 || inet_pton(AF_INET6, name.c_str(), ip) == 1;
  if (client.context->verifies_peer() && !name.empty()) {
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    } else {
      SSL_set1_host(ssl, name.c_str());
    }
  }
  if (!is_ip && !name.empty()) SSL_set_tlsext_host_name(ssl, name.c_str());
  if (!co_await handshake(tcp, ssl, false, timeout, why)) {
    SSL_free(ssl);
    co_return std::nullopt;
  }
  co_return start_pump(tcp, ssl, "engine " + peer, why);
}

}  // namespace flocker::transport
