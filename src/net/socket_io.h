#pragma once
// Helpers private to src/net: waiting on descriptors with a deadline, errno → Status.

#include <chrono>
#include <string_view>

#include "bulwark/common/status.h"

namespace bulwark::net::internal {

using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` (POLLIN/POLLOUT) or `deadline` passes.
// kDeadlineExceeded on timeout; OK also on POLLHUP/POLLERR (the next I/O call reports it).
Status WaitFor(int fd, short events, Clock::time_point deadline);

Status SocketError(int err, std::string_view what);

// O_NONBLOCK on.
Status SetNonBlocking(int fd);

}  // namespace bulwark::net::internal
