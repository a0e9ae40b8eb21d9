// Result<T>: a value or an Error carrying an errno and what was being done.
#pragma once

#include <cerrno>
#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace vdev {

struct Error {
  int code = 0;         // positive errno value
  std::string context;  // what failed, e.g. "open /sys/devices/x/uevent"

  // "context: strerror(code)"
  std::string Message() const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> Fail(int code, std::string context) {
  return tl::unexpected<Error>(Error{code, std::move(context)});
}

// Captures errno at the call: use right after the failing call.
inline tl::unexpected<Error> FailErrno(std::string context) {
  return Fail(errno, std::move(context));
}

inline Status Ok() { return {}; }

}  // namespace vdev
