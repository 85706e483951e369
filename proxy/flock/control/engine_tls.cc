#include "flock/control/engine_tls.h"

#include <spdlog/spdlog.h>

namespace flocker::flock {

std::shared_ptr<transport::TlsContext> EngineTls::context_for(const transport::TlsMaterial& m,
                                                              bool verify) {
  const std::string key = m.ca_file + '\0' + m.ca_pem + '\0' + m.cert_file + '\0' + m.cert_pem +
                          '\0' + m.key_file + '\0' + m.key_pem + '\0' + (verify ? "v" : "-");
  auto& slot = contexts_[key];
  if (!slot) slot = transport::TlsContext::client(m, verify);
  return slot;
}

void EngineTls::apply(transport::Address& address, const v1::Host* host) {
  if (address.is_unix) return;
  transport::TlsMaterial material = defaults_.material;
  bool verify = defaults_.verify;
  std::string server_name;
  if (host && host->has_tls()) {
    const auto& t = host->tls();
    material = {t.ca_file(), t.ca_pem(), t.cert_file(), t.cert_pem(), t.key_file(), t.key_pem()};
    verify = !t.insecure_skip_verify();
    server_name = t.server_name();
    if (!verify)
      spdlog::warn("host {}: engine certificate NOT verified (insecure_skip_verify)", host->name());
  } else if (!defaults_.enabled) {
    return;
  }
  auto client = std::make_shared<transport::TlsClient>();
  client->context = context_for(material, verify);
  client->server_name = server_name.empty() ? address.host : server_name;
  address.tls = std::move(client);
}

}  // namespace flocker::flock
