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

// What `info` does: udevadm's -q (default), -a, -d, -e and -c; the last one given wins,
// except that -e and -c act as soon as they are read, as in udevadm.
enum class InfoAction { kQuery, kAttributeWalk, kDeviceIdOfFile, kExportDb, kCleanupDb };

struct InfoOptions {
  InfoAction action = InfoAction::kQuery;
  InfoQuery query = InfoQuery::kAll;
  bool root = false;                         // -r: names with the dev root's path in front
  bool export_values = false;                // -x/-P: property lines as PREFIXKEY='VALUE'
  std::optional<std::string> export_prefix;  // -P
  bool value_only = false;                   // --value
  bool help = false;
  bool version = false;
  std::string file;  // -d FILE
  // --property=A,B: only these properties; an empty list shows none (as udevadm).
  std::optional<std::vector<std::string>> property_names;
  // -w[SECONDS]: wait until the device has a database record; negative waits forever.
  std::optional<double> wait_for_initialization;
  std::vector<InfoDeviceArgument> devices;
};

// Parses the arguments of `vdevadm info` (argv[0] is "info"), in udevadm's spellings:
// --query=TYPE, --query TYPE, -q TYPE, -n, -p, -r, -a, -d, -x, -P, -e, -c, --property,
// --value, -w, -V, --no-pager and device arguments. A failure is a usage error whose context
// is the message.
[[nodiscard]] Result<InfoOptions> ParseInfoOptions(int argc, char** argv);

// The udevadm record ("--query=all" and "--export-db"), as systemd 252 prints it: P: devpath,
// M: sysname, R: sysnum, U: subsystem, T: devtype, D: b|c MAJ:MIN, I: ifindex, N: node, L: link
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

// udevadm info --attribute-walk: the device at devpath and each of its parents, with the
// match keys a rule could use (KERNEL==, SUBSYSTEM==, DRIVER==, ATTR{...}== for the device;
// KERNELS==, SUBSYSTEMS==, DRIVERS==, ATTRS{...}== for a parent). Attributes are the
// device's files (also in subdirectories that are no device of their own) in name order,
// values without trailing newlines; values that look like paths or hold unprintable bytes
// are left out, unreadable ones show as "(not readable)".
[[nodiscard]] Result<std::string> FormatAttributeWalk(int sysfs_fd, std::string_view devpath);

// udevadm info --cleanup-db: removes the records of RUN/udev/data (but those whose mode has
// the sticky bit, which udev keeps across the switch from the initramfs), the tag index and
// udev's links, static_node-tags and watch directories, and vdevd's link claims
// (RUN/vdev/links). Missing directories are fine.
void CleanupDatabase(int run_fd);

// udevadm info --device-id-of-file: "MAJOR:MINOR" of the file system holding file, or with
// export "PREFIXMAJOR=..\nPREFIXMINOR=.." (prefix "INFO_" unless one is given).
[[nodiscard]] Result<std::string> FormatDeviceIdOfFile(const std::string& file, bool export_values,
                                                       const std::optional<std::string>& prefix);

// Writes the record of every device in sysfs (with or without a database record, as
// udevadm does), parents before children. database may be null (no records yet).
[[nodiscard]] Status ExportDatabase(const Roots& roots, const Database* database, FILE* out);

// Runs the command; returns the exit status: 0, or 1 (a device not found or another
// failure; the other devices are still shown). Errors go to err.
int RunInfoCommand(const InfoOptions& options, const RootPaths& paths, FILE* out, FILE* err);

// ParseInfoOptions (a usage error exits 1, as in udevadm), then RunInfoCommand.
int InfoMain(int argc, char** argv, const RootPaths& paths, FILE* out, FILE* err);

}  // namespace vdev
