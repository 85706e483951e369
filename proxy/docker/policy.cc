#include "docker/policy.h"

#include <boost/beast/core/string.hpp>
#include <cctype>
#include <functional>
#include <stdexcept>

#include "docker/go_json.h"
#include "docker/json.h"

namespace flocker::docker {

using transport::http::verb;

namespace {

constexpr std::pair<EndpointClass, const char*> kClassNames[] = {
    {EndpointClass::kContainers, "containers"},
    {EndpointClass::kImages, "images"},
    {EndpointClass::kExec, "exec"},
    {EndpointClass::kBuild, "build"},
    {EndpointClass::kVolumes, "volumes"},
    {EndpointClass::kNetworks, "networks"},
    {EndpointClass::kSystem, "system"},
    {EndpointClass::kEvents, "events"},
    {EndpointClass::kOther, "other"},
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool iequals(std::string_view a, std::string_view b) {
  return boost::beast::iequals(a, b);
}


// Every repeat of a key counts here (for_each_field, not go_field): the policy refuses what
// any copy asks for.
bool any_true(const dom::element& obj, std::string_view key) {
  bool out = false;
  for_each_field(obj, key, [&](const dom::element& v) { out = out || (v.is_bool() && bool(v)); });
  return out;
}

std::optional<std::string> any_string(const dom::element& obj, std::string_view key,
                                      const std::function<bool(std::string_view)>& bad) {
  std::optional<std::string> out;
  for_each_field(obj, key, [&](const dom::element& v) {
    std::string_view s;
    if (!out && !v.get(s) && bad(s)) out = std::string(s);
  });
  return out;
}

bool non_empty_array(const dom::element& obj, std::string_view key) {
  bool out = false;
  for_each_field(obj, key, [&](const dom::element& v) {
    dom::array a;
    out = out || (!v.get(a) && a.size() > 0);
  });
  return out;
}

// The first string, in any array under `key`, that `match` picks.
std::optional<std::string> first_item(const dom::element& obj, std::string_view key,
                                      const std::function<bool(std::string_view)>& match) {
  std::optional<std::string> out;
  for_each_field(obj, key, [&](const dom::element& v) {
    dom::array a;
    if (out || v.get(a)) return;
    for (auto item : a) {
      std::string_view s;
      if (!out && !item.get(s) && match(s)) out = std::string(s);
    }
  });
  return out;
}

std::string refused(std::string_view what, std::string_view flag) {
  return "flocker policy: " + std::string(what) +
         " is not allowed here (the proxy's --allow-host-access " + std::string(flag) +
         " would allow it)";
}

// A local-driver volume that mounts a host path: DriverOpts {"o": "bind", "device": "/..."}.
bool binds_host_path(const dom::element& driver_opts) {
  bool bind = false;
  for_each_field(driver_opts, "o", [&](const dom::element& v) {
    std::string_view s;
    bind = bind || (!v.get(s) && s.find("bind") != std::string_view::npos);
  });
  for_each_field(driver_opts, "type", [&](const dom::element& v) {
    std::string_view s;
    bind = bind || (!v.get(s) && s == "none");
  });
  return bind;
}

// The host-access fields of one HostConfig-shaped object.
std::optional<std::string> check_host_config(const HostAccess& allow, const dom::element& hc) {
  if (!allow.privileged && any_true(hc, "Privileged"))
    return refused("a privileged container", "privileged");
  if (!allow.host_namespaces) {
    for (std::string_view key :
         {"NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode", "CgroupnsMode"}) {
      if (any_string(hc, key, [](std::string_view s) { return iequals(s, "host"); })) {
        return refused("the host's namespace (" + std::string(key) + "=host)", "host-namespaces");
      }
    }
  }
  if (!allow.cap_add && non_empty_array(hc, "CapAdd"))
    return refused("adding capabilities", "cap-add");
  if (!allow.devices &&
      (non_empty_array(hc, "Devices") || non_empty_array(hc, "DeviceCgroupRules"))) {
    return refused("access to host devices", "devices");
  }
  if (!allow.unconfined) {
    auto bad = first_item(hc, "SecurityOpt", [](std::string_view s) {
      std::string lower(s);
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return lower.find("unconfined") != std::string::npos || lower == "label=disable" ||
             lower == "label:disable";
    });
    if (bad) return refused("the security option '" + *bad + "'", "unconfined");
  }
  if (!allow.host_mounts) {
    auto bad = first_item(hc, "Binds", [](std::string_view s) {
      return !s.empty() && (s[0] == '/' || s[0] == '.' || s[0] == '~');  // a host path
    });
    for_each_field(hc, "Mounts", [&](const dom::element& v) {
      dom::array a;
      if (bad || v.get(a)) return;
      for (auto m : a) {
        if (any_string(m, "Type", [](std::string_view t) { return iequals(t, "bind"); })) {
          bad = std::string(
              any_string(m, "Source", [](std::string_view) { return true; }).value_or("?"));
        }
        for_each_field(m, "VolumeOptions", [&](const dom::element& vo) {
          for_each_field(vo, "DriverConfig", [&](const dom::element& dc) {
            for_each_field(dc, "Options", [&](const dom::element& opts) {
              if (!bad && binds_host_path(opts)) bad = "a volume bound to a host path";
            });
          });
        });
      }
    });
    if (bad) return refused("mounting the host's " + *bad, "host-mounts");
  }
  return std::nullopt;
}

}  // namespace

const char* class_name(EndpointClass c) {
  for (auto& [cls, name] : kClassNames) {
    if (cls == c) return name;
  }
  return "other";
}

std::optional<EndpointClass> class_from_name(std::string_view name) {
  for (auto& [cls, n] : kClassNames) {
    if (name == n) return cls;
  }
  return std::nullopt;
}

EndpointClass endpoint_class(const Route& route, verb method) {
  switch (route.endpoint) {
    case Endpoint::kPing:
    case Endpoint::kVersion:
    case Endpoint::kInfo:
    case Endpoint::kSystemDf:
      return EndpointClass::kSystem;
    case Endpoint::kEvents:
      return EndpointClass::kEvents;
    case Endpoint::kContainerList:
    case Endpoint::kContainerPrune:
    case Endpoint::kContainerCreate:
      return EndpointClass::kContainers;
    case Endpoint::kContainer:
      return route.action == "exec" && method == verb::post ? EndpointClass::kExec
                                                            : EndpointClass::kContainers;
    case Endpoint::kExec:
      return EndpointClass::kExec;
    case Endpoint::kImageList:
    case Endpoint::kImagePrune:
    case Endpoint::kImageCreate:
    case Endpoint::kImageLoad:
    case Endpoint::kImage:
    case Endpoint::kImageGetMany:
    case Endpoint::kCommit:
      return EndpointClass::kImages;
    case Endpoint::kBuild:
    case Endpoint::kBuildPrune:
    case Endpoint::kBuildKitControl:
    case Endpoint::kBuildKitSession:
    case Endpoint::kBuildCancel:
      return EndpointClass::kBuild;
    case Endpoint::kNetworkList:
    case Endpoint::kNetworkPrune:
    case Endpoint::kNetworkCreate:
    case Endpoint::kNetwork:
      return EndpointClass::kNetworks;
    case Endpoint::kVolumeList:
    case Endpoint::kVolumePrune:
    case Endpoint::kVolumeCreate:
    case Endpoint::kVolume:
      return EndpointClass::kVolumes;
    case Endpoint::kAnyHost:
      return route.target.path == "/auth" ? EndpointClass::kSystem : EndpointClass::kImages;
    case Endpoint::kPluginList:
    case Endpoint::kPlugin:
    case Endpoint::kSwarm:
    case Endpoint::kUnsupported:
    case Endpoint::kUnknown:
      return EndpointClass::kOther;
  }
  return EndpointClass::kOther;
}

bool streams_request_body(const Route& route, verb method) {
  switch (route.endpoint) {
    case Endpoint::kBuild:
    case Endpoint::kImageLoad:
      return true;
    case Endpoint::kImageCreate:  // docker import: fromSrc=- uploads a tarball
      return query_param(route.target.query, "fromSrc").has_value();
    case Endpoint::kContainer:
      return route.action == "archive" && method == verb::put;
    default:
      return false;
  }
}

std::optional<std::string> non_canonical_target(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (target.find('#') != std::string_view::npos) return "a request target with a fragment";
  if (path.empty() || path[0] != '/') return "a request path that does not start with '/'";
  for (std::size_t i = 0; i < path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f) return "a control character in the request path";
    if (c == '\\') return "a backslash in the request path";
    if (c == '%') {
      const int hi = i + 2 < path.size() ? hex_value(path[i + 1]) : -1;
      const int lo = hi >= 0 ? hex_value(path[i + 2]) : -1;
      if (lo < 0) return "a malformed %-escape in the request path";
      const char d = static_cast<char>(hi * 16 + lo);
      // The engine decodes the path before routing: an escape of a character that needs
      // none would route there differently than here.
      if (std::isalnum(static_cast<unsigned char>(d)) || d == '-' || d == '.' || d == '_' ||
          d == '~' || d == '/' || d == '\\' || static_cast<unsigned char>(d) < 0x20) {
        return "an encoded '" + std::string(path.substr(i, 3)) + "' in the request path";
      }
      i += 2;
    }
  }
  // Segments: none empty (except the root alone), none "." or "..".
  if (path != "/") {
    std::size_t start = 1;
    for (;;) {
      const std::size_t slash = path.find('/', start);
      std::string_view seg =
          path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
      if (seg.empty() && slash != std::string_view::npos)
        return "an empty segment ('//') in the request path";
      if (seg == "." || seg == "..")
        return "a '" + std::string(seg) + "' segment in the request path";
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
  }
  return std::nullopt;
}

HostAccess parse_host_access(std::string_view list) {
  HostAccess a;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    if (item == "all") {
      a = {true, true, true, true, true, true};
    } else if (item == "privileged") {
      a.privileged = true;
    } else if (item == "host-namespaces") {
      a.host_namespaces = true;
    } else if (item == "cap-add") {
      a.cap_add = true;
    } else if (item == "host-mounts") {
      a.host_mounts = true;
    } else if (item == "devices") {
      a.devices = true;
    } else if (item == "unconfined") {
      a.unconfined = true;
    } else {
      throw std::invalid_argument(
          "unknown host access '" + std::string(item) +
          "' (privileged, host-namespaces, cap-add, host-mounts, devices, unconfined, all)");
    }
  }
  return a;
}

std::optional<std::string> check_endpoint(const PolicyOptions& options, verb method,
                                          EndpointClass cls) {
  if (options.denied.count(cls)) {
    return std::string("flocker policy: the ") + class_name(cls) +
           " endpoints are disabled on this proxy";
  }
  if (options.read_only && method != verb::get && method != verb::head) {
    return "flocker policy: this proxy is read-only";
  }
  return std::nullopt;
}

bool body_is_checked(const Route& route, verb method) {
  if (method != verb::post) return false;
  switch (route.endpoint) {
    case Endpoint::kContainerCreate:
    case Endpoint::kVolumeCreate:
      return true;
    case Endpoint::kContainer:
      return route.action == "exec" || route.action == "start" || route.action == "update";
    default:
      return false;
  }
}

std::optional<std::string> check_body(const PolicyOptions& options, const Route& route, verb method,
                                      std::string_view body) {
  if (!body_is_checked(route, method) || options.allow.all()) return std::nullopt;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;  // no body
  // What the engine reads is Go's first value of the body: what follows it is ignored, and a
  // body Go cannot read is refused by the engine before it acts on anything (it answers with
  // its own error, which the client should get). A value that is not an object asks for
  // nothing (null) or is refused by the engine too (a type error).
  const auto decoded = go_decode(body);
  if (!decoded.ok) return std::nullopt;
  const std::string_view value = body.substr(0, decoded.end);
  dom::parser parser;
  dom::element root;
  if (parser.parse(value.data(), value.size()).get(root)) {
    // Go reads it, simdjson cannot (invalid UTF-8 in a string): unseen, so refused.
    return "flocker policy: the request body is not JSON the policy can read (invalid UTF-8?)";
  }
  if (!root.is_object()) return std::nullopt;
  const HostAccess& allow = options.allow;
  if (route.endpoint == Endpoint::kVolumeCreate) {
    if (allow.host_mounts) return std::nullopt;
    bool bad = false;
    for_each_field(root, "DriverOpts",
               [&](const dom::element& opts) { bad = bad || binds_host_path(opts); });
    if (bad) return refused("a volume bound to a host path", "host-mounts");
    return std::nullopt;
  }
  if (route.action == "exec") {
    if (!allow.privileged && any_true(root, "Privileged"))
      return refused("a privileged exec", "privileged");
    return std::nullopt;
  }
  // Create: the HostConfig, and the deprecated top-level fields the engine still reads.
  // Start (API < 1.24) and update: the body is itself HostConfig-shaped.
  if (auto why = check_host_config(allow, root)) return why;
  std::optional<std::string> inner;
  for_each_field(root, "HostConfig", [&](const dom::element& hc) {
    if (!inner) inner = check_host_config(allow, hc);
  });
  return inner;
}

}  // namespace flocker::docker
