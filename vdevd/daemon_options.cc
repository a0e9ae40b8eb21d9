#include "daemon_options.h"

#include <ini.h>

#include <charconv>
#include <cstring>
#include <functional>
#include <optional>
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
    {"version", Takes::kFlag, false},
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
std::string Apply(DaemonOptions& options, const Setting& setting, bool& rules_dirs_reset,
                  bool& helper_dirs_reset) {
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
    bool& reset = name == "rules-dir" ? rules_dirs_reset : helper_dirs_reset;
    if (!reset) dirs.clear();  // the first one given replaces the defaults
    reset = true;
    dirs.push_back(value);
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
         "                         auto: only when managing /dev from /sys (default auto)\n"
         "  --once                 coldplug, process until idle, exit\n"
         "  --replay FILE          read events from FILE ('-' = stdin) instead of netlink\n"
         "  --no-coldplug          do not walk sysfs at start\n"
         "  --ready-fd N           write a newline to fd N once listening and coldplugged\n"
         "  --dry-run              print what would be done, change nothing\n"
         "  --check-config         only parse the config and rules\n"
         "  --log-level LEVEL      err, warning, notice, info or debug (default notice)\n"
         "  --log-target T         stderr or syslog (default stderr)\n"
         "  --receive-buffer SIZE  netlink receive buffer (default 128M)\n"
         "  --workers N            worker threads (default: from the CPU count)\n"
         "  --event-timeout S      seconds a rule's program may run (default 180)\n"
         "  --uevent-backlog N     events a DEV/uevents client may leave unread before it is\n"
         "                         told it lost some (default 4096)\n"
         "  --uevent-clients-per-uid N  DEV/uevents clients served per user (default 64)\n";
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

  bool rules_reset = false, helpers_reset = false;
  for (const auto& setting : config.settings) {
    std::string error = Apply(options, setting, rules_reset, helpers_reset);
    if (!error.empty())
      return Fail(EINVAL, options.config_path + ": " + setting.name + ": " + error);
  }
  // Directories named on the command line replace those of the config file.
  rules_reset = helpers_reset = false;
  for (const auto& setting : command_line) {
    std::string error = Apply(options, setting, rules_reset, helpers_reset);
    if (!error.empty()) return Fail(EINVAL, "--" + setting.name + ": " + error);
  }
  if (options.once && !options.replay_path.empty())
    return Fail(EINVAL, "--once and --replay cannot be combined");
  return options;
}

}  // namespace vdev
