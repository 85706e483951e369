// Test helper: a throwaway PKI (a CA, and certificates it signs, valid or expired) made with
// OpenSSL's API, and a blocking TLS client for one request.
#pragma once

#include <chrono>
#include <string>

namespace flocker::test {

struct IssuedCert {
  std::string cert, key;  // PEM file paths
};

class TestPki {
 public:
  // A new CA in a fresh temporary directory.
  explicit TestPki(const std::string& name = "test-ca");
  ~TestPki();
  const std::string& dir() const { return dir_; }
  const std::string& ca_file() const { return ca_cert_; }
  // A certificate for `cn`, with IP 127.0.0.1 and DNS localhost as its names, valid from
  // `from_days` to `to_days` relative to now (negative: in the past).
  IssuedCert issue(const std::string& cn, int from_days = -1, int to_days = 30);

 private:
  std::string dir_, ca_cert_;
  void* ca_key_ = nullptr;   // EVP_PKEY*
  void* ca_x509_ = nullptr;  // X509*
  int serial_ = 1;
};

// Connects to "tcp://127.0.0.1:PORT" over TLS (verifying the server against `ca_file`,
// presenting `client` when given), sends `request` (`write_after` the handshake), and returns
// all it reads until the server closes. On a failed handshake returns "" and sets `error`; a
// request that cannot be written is reported as such, as Go's HTTP client does.
std::string tls_exchange(const std::string& address, const std::string& ca_file,
                         const IssuedCert* client, const std::string& request,
                         std::string* error = nullptr, bool half_close = false,
                         std::chrono::milliseconds write_after = std::chrono::milliseconds(0));

}  // namespace flocker::test
