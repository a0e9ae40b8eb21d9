// The `vdevadm info` command: its udevadm-compatible options, udevadm's output formats,
// and the command run against explicit roots and streams (vdevadm/info.cc is the front end).
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/database.h"
#include "common/device_info.h"
#include "common/result.h"
#include "common/roots.h"

namespace vdev {

enum class InfoQuery { kName, kSymlink, kPath, kProperty, kAll };

// "name", "symlink", "path", "property" (or the old "env"), "all".
std::optional<InfoQuery> ParseInfoQuery(std::string_view text);

// How the user named a device: -n (a node), -p (a syspath or devpath), or positionally
// (anything ResolveDeviceArgument takes).
struct InfoDeviceArgument {
  enum class Kind { kName, kPath, kAny };
  Kind kind = Kind::kAny;
  std::string text;

  bool operator==(const InfoDeviceArgument&) const = default;
};

struct InfoOptions {
  InfoQuery query = InfoQuery::kAll;
  bool export_db = false;      // -e: every device in the "all" format
  bool root = false;           // -r: names with the dev root's path in front
  bool export_values = false;  // -x/-P: property lines as PREFIXKEY='VALUE'
  std::string export_prefix;   // -P
  bool value_only = false;     // --value
  bool help = false;
  // --property=A,B: only these properties; an empty list shows none (as udevadm).
  std::optional<std::vector<std::string>> property_names;
  // -w[SECONDS]: wait until the device has a database record; negative waits forever.
  std::optional<double> wait_for_initialization;
  std::vector<InfoDeviceArgument> devices;
};

// Parses the arguments of `vdevadm info` (argv[0] is "info"), in udevadm's spellings:
// --query=TYPE, --query TYPE, -q TYPE, -n, -p, -r, -x, -P, -e, --property, --value, -w,
// and device arguments. A failure is a usage error whose context is the message.
[[nodiscard]] Result<InfoOptions> ParseInfoOptions(int argc, char** argv);

// The udevadm record ("--query=all" and "--export-db"): P: devpath, M: sysname, R: sysnum,
// J: device id, U: subsystem, T: devtype, D: b|c MAJ:MIN, I: ifindex, N: node, L: link
// priority, S: each link, Q: diskseq, V: driver, E: each property; lines whose value is
// unknown are left out; a blank line ends the record.
std::string FormatInfoRecord(const DeviceInfo& info);

// One device's answer to options.query (names are relative to the dev root unless
// options.root). ENOENT for the name query of a device without a node.
[[nodiscard]] Result<std::string> FormatInfoQuery(const DeviceInfo& info,
                                                  const InfoOptions& options,
                                                  std::string_view dev_root);

// Finds the devpath of one device argument below roots.
[[nodiscard]] Result<std::string> ResolveInfoDevice(const Roots& roots,
                                                    const InfoDeviceArgument& argument);

// Writes the record of every device in sysfs (with or without a database record, as
// udevadm does), parents before children. database may be null (no records yet).
[[nodiscard]] Status ExportDatabase(const Roots& roots, const Database* database, FILE* out);

// Runs the command; returns the exit status: 0, 1 (a device not found or another
// failure; the other devices are still shown), 2 (usage). Errors go to err.
int RunInfoCommand(const InfoOptions& options, const RootPaths& paths, FILE* out, FILE* err);

// ParseInfoOptions, then RunInfoCommand (or the help text).
int InfoMain(int argc, char** argv, const RootPaths& paths, FILE* out, FILE* err);

}  // namespace vdev
