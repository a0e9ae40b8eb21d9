// vdevadm: the admin tool; dispatches to the udevadm-compatible sub-commands.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "common/log.h"
#include "vdevadm/commands.h"

namespace vdev {
namespace {

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* help;
};

constexpr Command kCommands[] = {
    {"info", RunInfo, "query sysfs or the device database"},
    {"trigger", RunTrigger, "ask the kernel to send device events again"},
    {"settle", RunSettle, "wait until vdevd has processed all queued events"},
    {"control", RunControl, "control the running vdevd"},
    {"monitor", RunMonitor, "print kernel uevents and the events vdevd processed"},
    {"test", RunTest, "show what the rules would do with a device, doing nothing"},
    {"wait", RunWait, "wait for devices or their links to appear or go"},
};

void PrintUsage(FILE* out) {
  fprintf(out,
          "Usage: vdevadm [--help] [--version] [--debug] COMMAND [COMMAND OPTIONS]\n\n"
          "Send control commands to vdevd or test the device manager (udevadm-compatible).\n\n"
          "Commands:\n");
  for (const auto& command : kCommands) fprintf(out, "  %-12s  %s\n", command.name, command.help);
  fprintf(out,
          "\n'vdevadm COMMAND --help' describes each command; see vdevadm(8). VDEV_SYSFS_ROOT,\n"
          "VDEV_DEV_ROOT and VDEV_RUN_DIR select other roots than /sys, /dev and /run.\n"
          "Exit status: 0 on success, 1 on any failure (as udevadm).\n");
}

int Main(int argc, char** argv) {
  int first = 1;
  // udevadm's global options come before the command.
  for (; first < argc && argv[first][0] == '-'; ++first) {
    std::string_view option = argv[first];
    if (option == "--debug" || option == "-d") {
      SetLogLevel(LogLevel::kDebug);
    } else if (option == "--help" || option == "-h") {
      PrintUsage(stdout);
      return 0;
    } else if (option == "--version" || option == "-V") {
      // Only the number, as udevadm --version prints it: scripts parse it.
      printf("%s\n", VDEV_VERSION);
      return 0;
    } else {
      fprintf(stderr, "vdevadm: unknown option '%s'\nTry 'vdevadm --help'.\n", argv[first]);
      return 1;
    }
  }
  if (first >= argc) {
    fprintf(stderr, "vdevadm: command verb required\nTry 'vdevadm --help'.\n");
    return 1;
  }
  std::string_view name = argv[first];
  if (name == "help") {
    PrintUsage(stdout);
    return 0;
  }
  if (name == "version") {
    printf("%s\n", VDEV_VERSION);
    return 0;
  }
  for (const auto& command : kCommands) {
    if (name == command.name) return command.run(argc - first, argv + first);
  }
  if (name == "hwdb" || name == "test-builtin" || name == "lock") {
    fprintf(stderr, "vdevadm: '%s' is not supported by vdev\n", argv[first]);
    return 1;
  }
  fprintf(stderr, "vdevadm: unknown command verb '%s'\nTry 'vdevadm --help'.\n", argv[first]);
  return 1;
}

}  // namespace
}  // namespace vdev

int main(int argc, char** argv) { return vdev::Main(argc, argv); }
