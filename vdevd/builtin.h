// Builtins: in-process probes that a rule runs with `builtin = NAME ARGS` (udev's
// IMPORT{builtin}). Each adds properties to the event; each lives in its own
// builtin_<name>.cc and is listed once in the table in builtin.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "event_state.h"

namespace vdev {

struct BuiltinCall {
  EventState& state;
  std::vector<std::string> args;  // after the builtin's name, already substituted
};

// Returns an error when the probe failed (logged by the caller, the event goes on). A
// builtin that finds the device busy (a partitioning tool holds the disk's lock) sets
// state.busy and returns EAGAIN: the event is retried later, unless state.last_attempt
// says there will be no further try, in which case the builtin probes anyway.
using BuiltinFunction = Status (*)(BuiltinCall& call);

struct Builtin {
  std::string_view name;
  BuiltinFunction run;
  std::string_view help;
};

// nullptr for an unknown name (rules naming one are refused when they are loaded).
const Builtin* FindBuiltin(std::string_view name);
const std::vector<Builtin>& AllBuiltins();

}  // namespace vdev
