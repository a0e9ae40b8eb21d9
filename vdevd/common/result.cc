#include "common/result.h"

#include <cstring>

namespace vdev {

std::string Error::Message() const {
  if (code == 0) return context;
  return context + ": " + std::strerror(code);
}

}  // namespace vdev
