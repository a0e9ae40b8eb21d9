// ProgramRunner: runs a rule's external program with the event's properties as its
// environment, bounded by a timeout so one hung helper cannot stall the device manager.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"
#include "common/uevent.h"

namespace vdev {

class ProgramRunner {
 public:
  virtual ~ProgramRunner() = default;
  // Runs command (split on whitespace, no shell; a relative program name is looked up in
  // the helper directory) and returns its standard output. ETIME when it outlives the
  // timeout (it is then killed), EIO when it exits non-zero.
  [[nodiscard]] virtual Result<std::string> Run(const std::string& command,
                                                const Uevent& environment) = 0;
};

}  // namespace vdev
