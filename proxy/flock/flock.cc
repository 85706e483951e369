#include "flock/flock.h"

#include <fmt/format.h>

#include <functional>

namespace flocker::flock {
namespace {

// An ID in docker's format (12 groups of 4), derived from the flock's name: stable across
// restarts and the same for every replica of one flock.
std::string flock_id(const std::string& name) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  uint64_t h1 = std::hash<std::string>{}("flocker/" + name);
  uint64_t h2 = std::hash<std::string>{}(name + "/flocker");
  std::string out;
  for (int i = 0; i < 48; ++i) {
    uint64_t& h = i < 24 ? h1 : h2;
    out += alphabet[h % 32];
    h = h / 32 + (h % 32) * 0x9E3779B97F4A7C15ull;
    if (i % 4 == 3 && i != 47) out += ':';
  }
  return out;
}

}  // namespace

Flock::Flock(FlockOptions opts)
    : options(std::move(opts)),
      id(flock_id(options.name)),
      pins(options.pin_ttl),
      decider(options.decider),
      fallback({}) {
  if (options.coordination) {
    coordination = std::make_unique<Coordination>(*options.coordination, options.proxy_instance);
  }
}

std::optional<std::string> Flock::find_pin(const std::string& client, const std::string& image) {
  if (auto pin = pins.find(client, image)) return pin;
  if (coordination) return coordination->pinned(client, image);
  return std::nullopt;
}

void Flock::remember_pin(const std::string& client, const std::string& image, const std::string& host) {
  pins.remember(client, image, host);
  if (coordination) coordination->pin(client, image, host, options.pin_ttl);
}

void Flock::forget_pin(const std::string& client, const std::string& image) {
  pins.forget(client, image);
  if (coordination) coordination->unpin(client, image);
}

}  // namespace flocker::flock
