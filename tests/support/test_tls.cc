#include "test_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace flocker::test {
namespace {

EVP_PKEY* new_key() {
  return EVP_EC_gen("P-256");
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path);
  if (cert) PEM_write_X509(f, cert);
  if (key) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509* make_cert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                int serial, int from_days, int to_days, bool ca) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), static_cast<long>(from_days) * 86400);
  X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(to_days) * 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("flocker tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : x;
  if (ca) {
    add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x, signer, NID_basic_constraints, "CA:FALSE");
    add_ext(x, signer, NID_ext_key_usage, "serverAuth,clientAuth");
    add_ext(x, signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
  }
  X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
  return x;
}

}  // namespace

TestPki::TestPki(const std::string& name) {
  char tmpl[] = "/tmp/flocker-pki-XXXXXX";
  dir_ = mkdtemp(tmpl);
  EVP_PKEY* key = new_key();
  X509* ca = make_cert(name, key, nullptr, nullptr, 1, -1, 365, true);
  ca_cert_ = dir_ + "/ca.pem";
  write_pem(ca_cert_, ca, nullptr);
  ca_key_ = key;
  ca_x509_ = ca;
}

TestPki::~TestPki() {
  X509_free(static_cast<X509*>(ca_x509_));
  EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

IssuedCert TestPki::issue(const std::string& cn, int from_days, int to_days) {
  EVP_PKEY* key = new_key();
  X509* x = make_cert(cn, key, static_cast<X509*>(ca_x509_), static_cast<EVP_PKEY*>(ca_key_),
                      ++serial_, from_days, to_days, false);
  IssuedCert out{dir_ + "/" + cn + "-" + std::to_string(serial_) + "-cert.pem",
                 dir_ + "/" + cn + "-" + std::to_string(serial_) + "-key.pem"};
  write_pem(out.cert, x, nullptr);
  write_pem(out.key, nullptr, key);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

std::string tls_exchange(const std::string& address, const std::string& ca_file,
                         const IssuedCert* client, const std::string& request, std::string* error,
                         bool half_close, std::chrono::milliseconds write_after) {
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    if (error) *error = "connect failed";
    return "";
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (client) {
    SSL_CTX_use_certificate_chain_file(ctx, client->cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, client->key.c_str(), SSL_FILETYPE_PEM);
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  std::string out;
  if (SSL_connect(ssl) != 1) {
    if (error) {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
      *error = buf;
    }
  } else if (std::this_thread::sleep_for(write_after);
             SSL_write(ssl, request.data(), static_cast<int>(request.size())) <= 0) {
    if (error) *error = std::string("cannot send the request: ") + std::strerror(errno);
  } else {
    if (half_close) SSL_shutdown(ssl);  // close_notify: our half-close
    char buf[16384];
    for (;;) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    // With TLS 1.3 a refused client certificate shows only at the first read.
    if (out.empty() && error) {
      char ebuf[256];
      unsigned long e = ERR_get_error();
      if (e) {
        ERR_error_string_n(e, ebuf, sizeof ebuf);
        *error = ebuf;
      } else {
        *error = "closed without an answer";
      }
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  return out;
}

}  // namespace flocker::test
