// Precompiled for flocker's heaviest targets (cmake/precompiled_headers.cmake): the third-party
// headers nearly every proxy and test file reaches through ours. Parsing Boost.Asio/Beast,
// spdlog, fmt and simdjson again in every translation unit was a large part of the build, and
// the build is most of CI's time. Only stable third-party and standard headers belong here:
// a change to one of ours must not rebuild everything.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
