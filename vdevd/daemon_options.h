// DaemonOptions: vdevd's settings from the command line and the ini config file (the
// command line wins), as DESIGN.md's command-line contract names them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "common/roots.h"
#include "device_filter.h"

namespace vdev {

enum class DevfsMode { kAuto, kTmpfs, kDevtmpfs };
// kAuto: load drivers only as the system's device manager (dev root /dev, sysfs /sys), never
// for a private dev root (a test rig, a chroot instance) that shares the machine's kernel.
enum class ModuleLoading { kAuto, kOn, kOff };

struct DaemonOptions {
  RootPaths roots;  // --dev-root, --sysfs-root, --run-dir
  std::vector<std::string> rules_dirs = {"/etc/vdev/rules.d", "/usr/lib/vdev/rules.d"};
  std::vector<std::string> helper_dirs = {"/usr/lib/vdev"};
  std::string config_path = "/etc/vdev/vdevd.conf";
  DevfsMode devfs = DevfsMode::kAuto;
  bool mount_tmpfs = false;  // mount a tmpfs on the dev root unless one is there
  ModuleLoading modules = ModuleLoading::kAuto;  // --modules: MODALIAS -> kernel modules
  bool once = false;
  std::string replay_path;   // "-" is stdin
  bool no_coldplug = false;
  int ready_fd = -1;
  bool daemon = false;   // fork; the parent exits once the child is ready
  bool boot = false;     // mount a tmpfs on the dev root if needed, make the static nodes
  std::string pid_file;  // "" = none; --daemon defaults to RUN/vdev/vdevd.pid
  // --allow / --deny SUBSYSTEM[:KERNELGLOB]: the devices this instance manages.
  std::vector<DeviceFilter::Pattern> allow, deny;
  bool block_watch = true;  // --block-watch: change events for nodes closed after a write
  bool dry_run = false;
  bool check_config = false;
  bool help = false;
  bool version = false;
  LogLevel log_level = LogLevel::kNotice;
  LogTarget log_target = LogTarget::kStderr;
  bool log_target_given = false;  // --log-target (or log_target in the config) was set
  size_t receive_buffer = 128u << 20;  // netlink socket, forced
  size_t workers = 0;                  // 0: chosen from the CPU count
  double event_timeout = 180;          // seconds a rule's program may run
  size_t uevent_backlog = 4096;          // event files per /dev/uevents client not yet read
  size_t uevent_clients_per_uid = 64;    // /dev/uevents client directories served per owner
};

// Parses argv, then the config file (a missing default file is fine, a missing file named
// with --config is not), then applies the command line over it. Errors say which option
// or which file:line is wrong.
[[nodiscard]] Result<DaemonOptions> ParseDaemonOptions(int argc, char** argv);

const char* DaemonUsage();

}  // namespace vdev
