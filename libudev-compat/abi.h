// abi.h: what every exported libudev function uses: export marking, errno-style failures and
// the catch-all that keeps C++ exceptions (bad_alloc) from crossing the C ABI.
#pragma once

#include <cerrno>
#include <new>

// Definitions of the C API: visible (the library builds with -fvisibility=hidden) and C linkage.
#define UDEV_EXPORT extern "C" __attribute__((visibility("default")))

namespace vdev::compat {

// For functions returning a pointer: sets errno and returns nullptr.
inline std::nullptr_t NullWithErrno(int error) noexcept {
  errno = error;
  return nullptr;
}

// Runs function and returns its result; an exception (allocation failure, the only kind the
// library's code raises) becomes on_failure with errno ENOMEM.
template <class Value, class Function>
Value Guard(Value on_failure, Function&& function) noexcept {
  try {
    return function();
  } catch (...) {
    errno = ENOMEM;
    return on_failure;
  }
}

// The same for functions returning void.
template <class Function>
void GuardVoid(Function&& function) noexcept {
  try {
    function();
  } catch (...) {
    errno = ENOMEM;
  }
}

}  // namespace vdev::compat
