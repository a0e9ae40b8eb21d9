// SpawnProgramRunner: the real ProgramRunner: posix_spawn without a shell, the event's
// properties as the environment, stdout captured, a timeout enforced through a pidfd.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "program_runner.h"

namespace vdev {

class SpawnProgramRunner : public ProgramRunner {
 public:
  static constexpr size_t kMaxOutput = 64 * 1024;
  static constexpr std::chrono::milliseconds kDefaultTimeout = std::chrono::seconds(30);
  static constexpr const char* kDefaultPath =
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  // helper_dirs: where a program named without '/' is looked up, in order (the build's
  // bin directory, the installed helper directory). PATH is what the program gets as $PATH.
  explicit SpawnProgramRunner(std::vector<std::string> helper_dirs,
                              std::chrono::milliseconds timeout = kDefaultTimeout,
                              std::string path = kDefaultPath);

  // Runs command (split on whitespace, no shell) with the properties as its environment
  // (without LD_* keys, which would let a property choose code to load into a root
  // process), stdin at end of file and stderr inherited. Returns the first 64 KiB of its
  // stdout. ENOENT when the program is not found, ETIME when it outlives the timeout (its
  // process group is then killed), EIO when it exits non-zero or is killed. The child is
  // always reaped. Safe to call from several threads at once.
  [[nodiscard]] Result<std::string> Run(const std::string& command,
                                        const Uevent& environment) override;

  // The path that would be executed for program, or ENOENT.
  [[nodiscard]] Result<std::string> Resolve(std::string_view program) const;

 private:
  std::vector<std::string> helper_dirs_;
  std::chrono::milliseconds timeout_;
  std::string path_;
};

}  // namespace vdev
