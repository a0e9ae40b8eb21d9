// vdevadm: the admin tool; dispatches to the udevadm-compatible sub-commands.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "common/log.h"
#include "vdevadm/commands.h"

#ifndef VDEV_VERSION
#define VDEV_VERSION "0.1.0"
#endif

namespace vdev {
namespace {

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* help;
};

constexpr Command kCommands[] = {
    {"info", RunInfo, "query the database and sysfs for device information"},
    {"trigger", RunTrigger, "ask the kernel to re-send device events"},
    {"settle", RunSettle, "wait until vdevd has processed all queued events"},
    {"monitor", RunMonitor, "print kernel uevents and the events vdevd processed"},
    {"control", RunControl, "control the running vdevd (exit, reload, log level)"},
};

void PrintUsage(FILE* out) {
  fprintf(out,
          "Usage: vdevadm [--debug] COMMAND [OPTIONS]\n"
          "       vdevadm --help | --version\n\n"
          "Commands:\n");
  for (const auto& command : kCommands) fprintf(out, "  %-10s %s\n", command.name, command.help);
  fprintf(out,
          "\nvdevadm COMMAND --help describes each command. VDEV_SYSFS_ROOT, VDEV_DEV_ROOT and\n"
          "VDEV_RUN_DIR select other roots than /sys, /dev and /run.\n");
}

int Main(int argc, char** argv) {
  int first = 1;
  // udevadm's global flag; accepted in front of the command only, as udevadm does.
  while (first < argc && (strcmp(argv[first], "--debug") == 0 || strcmp(argv[first], "-d") == 0)) {
    SetLogLevel(LogLevel::kDebug);
    ++first;
  }
  if (first >= argc) {
    fprintf(stderr, "vdevadm: missing command\n");
    PrintUsage(stderr);
    return 2;
  }
  std::string_view name = argv[first];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(stdout);
    return 0;
  }
  // Only the number, as udevadm --version prints it: scripts parse it.
  if (name == "--version" || name == "-V" || name == "version") {
    printf("%s\n", VDEV_VERSION);
    return 0;
  }
  for (const auto& command : kCommands) {
    if (name == command.name) return command.run(argc - first, argv + first);
  }
  fprintf(stderr, "vdevadm: unknown command '%s'\n", argv[first]);
  PrintUsage(stderr);
  return 2;
}

}  // namespace
}  // namespace vdev

int main(int argc, char** argv) { return vdev::Main(argc, argv); }
