#include "builtin.h"

namespace vdev {


const std::vector<Builtin>& AllBuiltins() {
  static const std::vector<Builtin> kBuiltins = {};
  return kBuiltins;
}

const Builtin* FindBuiltin(std::string_view name) {
  for (const auto& builtin : AllBuiltins())
    if (builtin.name == name) return &builtin;
  return nullptr;
}

}  // namespace vdev
