#include "daemon_options.h"

#include <ini.h>

#include <charconv>
#include <cstring>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "common/numbers.h"

namespace vdev {
namespace {

struct Setting {
  std::string name;  // long option name without "--"
  std::string value;
};

enum class Takes { kValue, kFlag };

struct OptionSpec {
  const char* name;
  Takes takes;
  bool in_config;  // may also appear in the config file
};

constexpr OptionSpec kOptions[] = {
    {"dev-root", Takes::kValue, true},     {"sysfs-root", Takes::kValue, true},
    {"run-dir", Takes::kValue, true},      {"rules-dir", Takes::kValue, true},
    {"helper-dir", Takes::kValue, true},   {"config", Takes::kValue, false},
    {"devfs", Takes::kValue, true},        {"mount-tmpfs", Takes::kFlag, true},
    {"modules", Takes::kValue, true},
    {"once", Takes::kFlag, false},         {"replay", Takes::kValue, false},
    {"no-coldplug", Takes::kFlag, true},   {"ready-fd", Takes::kValue, false},
    {"dry-run", Takes::kFlag, false},      {"check-config", Takes::kFlag, false},
    {"log-level", Takes::kValue, true},    {"log-target", Takes::kValue, true},
    {"receive-buffer", Takes::kValue, true}, {"workers", Takes::kValue, true},
    {"event-timeout", Takes::kValue, true}, {"uevent-backlog", Takes::kValue, true},
    {"uevent-clients-per-uid", Takes::kValue, true}, {"help", Takes::kFlag, false},
    {"version", Takes::kFlag, false},      {"daemon", Takes::kFlag, false},
    {"boot", Takes::kFlag, false},         {"pid-file", Takes::kValue, true},
    {"allow", Takes::kValue, true},        {"deny", Takes::kValue, true},
    {"block-watch", Takes::kValue, true},
};

const OptionSpec* FindOption(std::string_view name) {
  for (const auto& spec : kOptions)
    if (name == spec.name) return &spec;
  return nullptr;
}

// "128M", "4096", "1G": a byte count with an optional binary suffix.
std::optional<size_t> ParseSize(std::string_view text) {
  size_t multiplier = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': case 'k': multiplier = 1u << 10; break;
      case 'M': case 'm': multiplier = 1u << 20; break;
      case 'G': case 'g': multiplier = 1u << 30; break;
    }
    if (multiplier != 1) text.remove_suffix(1);
  }
  auto number = ParseNumber<size_t>(text);
  if (!number) return std::nullopt;
  return *number * multiplier;
}

std::optional<bool> ParseBool(std::string_view text) {
  if (text.empty() || text == "yes" || text == "true" || text == "1" || text == "on") return true;
  if (text == "no" || text == "false" || text == "0" || text == "off") return false;
  return std::nullopt;
}

// Applies one setting; returns an error text, empty when fine.
// replaced names the list options (rules-dir, allow ...) whose defaults or config-file
// values the current source has replaced already: the first one a source gives replaces.
std::string Apply(DaemonOptions& options, const Setting& setting,
                  std::set<std::string>& replaced) {
  const std::string& name = setting.name;
  const std::string& value = setting.value;
  auto flag = [&](bool& target) -> std::string {
    auto parsed = ParseBool(value);
    if (!parsed) return "expected yes or no, got '" + value + "'";
    target = *parsed;
    return {};
  };
  if (name == "dev-root") options.roots.dev = value;
  else if (name == "sysfs-root") options.roots.sysfs = value;
  else if (name == "run-dir") options.roots.run = value;
  else if (name == "rules-dir" || name == "helper-dir") {
    auto& dirs = name == "rules-dir" ? options.rules_dirs : options.helper_dirs;
    if (replaced.insert(name).second) dirs.clear();  // the first one given replaces the defaults
    dirs.push_back(value);
  } else if (name == "allow" || name == "deny") {
    auto pattern = DeviceFilter::ParsePattern(value);
    if (!pattern) return pattern.error().context;
    auto& list = name == "allow" ? options.allow : options.deny;
    if (replaced.insert(name).second) list.clear();
    list.push_back(std::move(*pattern));
  } else if (name == "daemon") return flag(options.daemon);
  else if (name == "boot") return flag(options.boot);
  else if (name == "pid-file") {
    if (value.empty()) return "expected a file name";
    options.pid_file = value;
  } else if (name == "block-watch") {
    auto on = ParseBool(value);
    if (!on || value.empty()) return "expected yes or no, got '" + value + "'";
    options.block_watch = *on;
  } else if (name == "config") options.config_path = value;
  else if (name == "devfs") {
    if (value == "auto") options.devfs = DevfsMode::kAuto;
    else if (value == "tmpfs") options.devfs = DevfsMode::kTmpfs;
    else if (value == "devtmpfs") options.devfs = DevfsMode::kDevtmpfs;
    else return "expected auto, tmpfs or devtmpfs, got '" + value + "'";
  } else if (name == "mount-tmpfs") return flag(options.mount_tmpfs);
  else if (name == "modules") {
    if (value == "auto") options.modules = ModuleLoading::kAuto;
    else if (auto on = ParseBool(value); on && !value.empty())
      options.modules = *on ? ModuleLoading::kOn : ModuleLoading::kOff;
    else return "expected auto, yes or no, got '" + value + "'";
  }
  else if (name == "once") return flag(options.once);
  else if (name == "replay") options.replay_path = value;
  else if (name == "no-coldplug") return flag(options.no_coldplug);
  else if (name == "ready-fd") {
    auto fd = ParseNumber<int>(value);
    if (!fd || *fd < 0) return "expected a file descriptor number, got '" + value + "'";
    options.ready_fd = *fd;
  } else if (name == "dry-run") return flag(options.dry_run);
  else if (name == "check-config") return flag(options.check_config);
  else if (name == "help") return flag(options.help);
  else if (name == "version") return flag(options.version);
  else if (name == "log-level") {
    auto level = ParseLogLevel(value);
    if (!level) return "unknown log level '" + value + "'";
    options.log_level = *level;
  } else if (name == "log-target") {
    options.log_target_given = true;
    if (value == "stderr" || value == "console") options.log_target = LogTarget::kStderr;
    else if (value == "syslog") options.log_target = LogTarget::kSyslog;
    else return "expected stderr or syslog, got '" + value + "'";
  } else if (name == "receive-buffer") {
    auto size = ParseSize(value);
    if (!size || *size < 4096) return "expected a size of at least 4096 bytes, got '" + value + "'";
    options.receive_buffer = *size;
  } else if (name == "workers") {
    auto count = ParseNumber<size_t>(value);
    if (!count || *count > 256) return "expected a number up to 256, got '" + value + "'";
    options.workers = *count;
  } else if (name == "event-timeout") {
    auto seconds = ParseNumber<unsigned>(value);
    if (!seconds || *seconds == 0) return "expected a positive number of seconds, got '" + value + "'";
    options.event_timeout = *seconds;
  } else if (name == "uevent-backlog" || name == "uevent-clients-per-uid") {
    auto count = ParseNumber<size_t>(value);
    if (!count || *count == 0 || *count > 1000000)
      return "expected a number from 1 to 1000000, got '" + value + "'";
    (name == "uevent-backlog" ? options.uevent_backlog : options.uevent_clients_per_uid) = *count;
  }
  return {};
}

struct ConfigParse {
  std::vector<Setting> settings;
  std::string error;
};

int ConfigHandler(void* user, const char* section, const char* name, const char* value) {
  auto* parse = static_cast<ConfigParse*>(user);
  if (std::strcmp(section, "vdevd") != 0) {
    parse->error = "unknown section [" + std::string(section) + "]";
    return 0;
  }
  std::string key = name;
  for (char& c : key)
    if (c == '_') c = '-';
  const OptionSpec* spec = FindOption(key);
  if (!spec || !spec->in_config) {
    parse->error = "unknown setting '" + std::string(name) + "'";
    return 0;
  }
  parse->settings.push_back({key, value});
  return 1;
}

}  // namespace

const char* DaemonUsage() {
  return "Usage: vdevd [OPTIONS]\n"
         "  --dev-root DIR         the /dev to manage (default /dev)\n"
         "  --sysfs-root DIR       where sysfs is (default /sys)\n"
         "  --run-dir DIR          runtime state root (default /run)\n"
         "  --rules-dir DIR        rules directory, repeatable\n"
         "                         (default /etc/vdev/rules.d over /usr/lib/vdev/rules.d)\n"
         "  --helper-dir DIR       where rule programs are found, repeatable (default /usr/lib/vdev)\n"
         "  --config FILE          ini config (default /etc/vdev/vdevd.conf)\n"
         "  --devfs auto|tmpfs|devtmpfs  who makes nodes (default auto)\n"
         "  --mount-tmpfs          mount a tmpfs on the dev root unless one is mounted there\n"
         "  --modules auto|yes|no  load the drivers devices ask for (MODALIAS) with libkmod;\n"
         "                         auto: only when managing /dev from /sys with no --allow or\n"
         "                         --deny (default auto)\n"
         "  --once                 coldplug, process until idle, exit\n"
         "  --replay FILE          read events from FILE ('-' = stdin) instead of netlink\n"
         "  --no-coldplug          do not walk sysfs at start\n"
         "  --ready-fd N           write a newline to fd N once listening and the coldplug has\n"
         "                         settled (drivers it loaded included)\n"
         "  --daemon               fork; the parent exits 0 once the daemon is ready, non-zero\n"
         "                         with its error when it fails first; logs to syslog unless\n"
         "                         --log-target is given\n"
         "  --pid-file FILE        write the daemon's pid to FILE (default with --daemon:\n"
         "                         RUN/vdev/vdevd.pid); a start is refused while it names a\n"
         "                         live vdevd\n"
         "  --boot                 boot-time device manager: mount a tmpfs on the dev root unless\n"
         "                         a tmpfs or devtmpfs is there, then make what is missing of\n"
         "                         console, null, zero, full, random, urandom, kmsg, tty, ptmx,\n"
         "                         fd, stdin, stdout, stderr, core, pts/, shm/ and the nodes of\n"
         "                         /lib/modules/RELEASE/modules.devname, before the coldplug\n"
         "  --allow SUBSYS[:KERNEL]  manage only matching devices (globs), repeatable\n"
         "  --deny SUBSYS[:KERNEL]   never manage matching devices, repeatable; a device is\n"
         "                         managed when it matches an --allow (or none is given) and\n"
         "                         no --deny. Others get no node, link, record or event.\n"
         "                         For chroot/container instances: see INSTALL.md\n"
         "  --block-watch yes|no   ask the kernel (sysfs uevent, BLKRRPART) for a change event\n"
         "                         when a managed disk's node is closed after a write\n"
         "                         (default yes)\n"
         "  --dry-run              print what would be done, change nothing\n"
         "  --check-config         only parse the config and rules\n"
         "  --log-level LEVEL      err, warning, notice, info or debug (default notice)\n"
         "  --log-target T         stderr or syslog (default stderr; syslog with --daemon)\n"
         "  --receive-buffer SIZE  netlink receive buffer (default 128M)\n"
         "  --workers N            worker threads (default: from the CPU count)\n"
         "  --event-timeout S      seconds a rule's program may run (default 180)\n"
         "  --uevent-backlog N     events a DEV/uevents client may leave unread before it is\n"
         "                         told it lost some (default 4096)\n"
         "  --uevent-clients-per-uid N  DEV/uevents clients served per user (default 64)\n"
         "Config file: section [vdevd], keys as the long options ('_' or '-'), e.g.\n"
         "  allow = block:loop*   (repeatable; the command line's list replaces the file's)\n"
         "Signals: SIGTERM/SIGINT exit (the pid file is removed), SIGHUP reloads the rules.\n";
}

Result<DaemonOptions> ParseDaemonOptions(int argc, char** argv) {
  std::vector<Setting> command_line;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h") arg = "--help";
    if (!arg.starts_with("--")) return Fail(EINVAL, "unexpected argument '" + std::string(arg) + "'");
    arg.remove_prefix(2);
    std::string name(arg.substr(0, arg.find('=')));
    const OptionSpec* spec = FindOption(name);
    if (!spec) return Fail(EINVAL, "unknown option '--" + name + "'");
    std::string value;
    if (arg.find('=') != std::string_view::npos) {
      value = arg.substr(arg.find('=') + 1);
    } else if (spec->takes == Takes::kValue) {
      if (i + 1 >= argc) return Fail(EINVAL, "option '--" + name + "' needs a value");
      value = argv[++i];
    }
    command_line.push_back({name, value});
  }

  DaemonOptions options;
  bool config_named = false;
  for (const auto& setting : command_line) {
    if (setting.name == "config") {
      options.config_path = setting.value;
      config_named = true;
    }
  }
  ConfigParse config;
  int line = ini_parse(options.config_path.c_str(), ConfigHandler, &config);
  if (line == -1) {
    if (config_named) return Fail(ENOENT, "cannot open config file " + options.config_path);
  } else if (line != 0) {
    return Fail(EINVAL, options.config_path + ":" + std::to_string(line) + ": " +
                            (config.error.empty() ? "syntax error" : config.error));
  }

  std::set<std::string> replaced;
  for (const auto& setting : config.settings) {
    std::string error = Apply(options, setting, replaced);
    if (!error.empty())
      return Fail(EINVAL, options.config_path + ": " + setting.name + ": " + error);
  }
  // Lists (directories, allow, deny) given on the command line replace the config file's.
  replaced.clear();
  for (const auto& setting : command_line) {
    std::string error = Apply(options, setting, replaced);
    if (!error.empty()) return Fail(EINVAL, "--" + setting.name + ": " + error);
  }
  if (options.once && !options.replay_path.empty())
    return Fail(EINVAL, "--once and --replay cannot be combined");
  if (options.daemon && (options.once || !options.replay_path.empty() || options.dry_run ||
                         options.check_config))
    return Fail(EINVAL, "--daemon cannot be combined with --once, --replay, --dry-run or "
                        "--check-config");
  if (options.boot && (options.dry_run || !options.replay_path.empty()))
    return Fail(EINVAL, "--boot cannot be combined with --dry-run or --replay");
  // A detached daemon's stderr goes nowhere.
  if (options.daemon && !options.log_target_given) options.log_target = LogTarget::kSyslog;
  return options;
}

}  // namespace vdev
