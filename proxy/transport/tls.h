// TLS at the edges, with the rest of the proxy unchanged: a TLS connection is terminated
// here and its plaintext carried over one end of a unix socketpair, whose other end is a
// plain Socket for the session (front) or the upstream pool (engines). The pump between
// the two is bounded (one 16 KiB buffer each way: backpressure both directions) and keeps
// half-close: a close_notify from the peer is a shutdown(SHUT_WR) on the plain side, and
// the plain side's EOF is a close_notify to the peer.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "net.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace flocker::transport {

// Where certificates and keys come from: a file or the PEM text itself (the PEM wins).
struct TlsMaterial {
  std::string ca_file, ca_pem;      // who signs the peer's certificate
  std::string cert_file, cert_pem;  // our certificate (chain)
  std::string key_file, key_pem;    // its key
  bool empty() const {
    return ca_file.empty() && ca_pem.empty() && cert_file.empty() && cert_pem.empty() &&
           key_file.empty() && key_pem.empty();
  }
};

// An OpenSSL context, shared by every connection that uses it.
class TlsContext {
 public:
  // A server: presents cert/key; with a CA, every client must present a certificate that CA
  // signed (refused during the handshake otherwise). Throws std::runtime_error.
  static std::shared_ptr<TlsContext> server(const TlsMaterial& material);
  // A client: verifies the server against the CA (the system's when none is given) unless
  // `verify` is false; presents cert/key when given. Throws std::runtime_error.
  static std::shared_ptr<TlsContext> client(const TlsMaterial& material, bool verify = true);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const { return ctx_; }
  bool verifies_peer() const { return verify_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  SSL_CTX* ctx_;
  bool verify_;
};

// The error an upstream connection reports when its TLS handshake failed (the reason is
// logged).
const boost::system::error_category& tls_category();
inline error_code tls_handshake_failed() {
  return {1, tls_category()};
}

// How to reach a TLS engine: the context and the name its certificate must carry (a DNS
// name or an IP address).
struct TlsClient {
  std::shared_ptr<TlsContext> context;
  std::string server_name;
};

// Front: handshakes with a client on `tcp` (within `timeout`). On success returns the plain
// end for the session and the client certificate's subject (RFC 2253, "" without one); the
// pump runs on until both directions end. nullopt when the handshake failed (`why` says
// what; the connection is closed).
struct TlsAccepted {
  Socket plain;
  std::string subject;
};
Task<std::optional<TlsAccepted>> tls_accept(Socket tcp, std::shared_ptr<TlsContext> context,
                                            std::chrono::milliseconds timeout, std::string peer,
                                            std::string& why);

// Engines: handshakes as a client on a connected `tcp`, verifying the server's name. The
// plain end is what the caller then speaks HTTP on.
Task<std::optional<Socket>> tls_connect(Socket tcp, const TlsClient& client,
                                        std::chrono::milliseconds timeout, std::string peer,
                                        std::string& why);

}  // namespace flocker::transport
