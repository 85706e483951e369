// TLS to the engines: from the TlsSettings a host carries in the decider's List, else the
// proxy's --engine-tls-* flags. Contexts are built once per distinct setting and shared.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "flocker/v1/decider.pb.h"
#include "transport/address.h"
#include "transport/tls.h"

namespace flocker::flock {

struct EngineTlsDefaults {
  bool enabled = false;  // --engine-tls or any --engine-tls-* file given
  transport::TlsMaterial material;
  bool verify = true;
};

class EngineTls {
 public:
  explicit EngineTls(EngineTlsDefaults defaults) : defaults_(std::move(defaults)) {}

  // Sets `address.tls` for a host (a tcp address) that has TLS settings or when the
  // defaults enable TLS. Throws std::runtime_error when a certificate cannot be loaded.
  void apply(transport::Address& address, const v1::Host* host);

 private:
  std::shared_ptr<transport::TlsContext> context_for(const transport::TlsMaterial& m, bool verify);

  EngineTlsDefaults defaults_;
  std::map<std::string, std::shared_ptr<transport::TlsContext>> contexts_;
};

}  // namespace flocker::flock
