// `vdevadm test`: runs the rules over one device the way vdevd would for an event, and prints
// what would be done (the matching rules, the node and link operations as the dry-run
// RecordingNodeWriter spells them, the resulting properties and the programs a RUN would
// start) without doing any of it: no node, link, database record or RUN program. Imports
// and builtins do run, read-only, since the rules' decisions depend on what they find.
#include <getopt.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/database.h"
#include "common/device.h"
#include "common/device_info.h"
#include "common/log.h"
#include "common/roots.h"
#include "common/uevent.h"
#include "builtin_kmod.h"
#include "daemon_options.h"
#include "event_state.h"
#include "module_loader.h"
#include "node_policy.h"
#include "node_writer.h"
#include "rule_set.h"
#include "spawn_program_runner.h"
#include "vdevadm/commands.h"

namespace vdev {
namespace {

constexpr const char* kActions[] = {"add",    "remove",  "change", "move",
                                    "online", "offline", "bind",   "unbind"};

void PrintUsage(FILE* out) {
  fprintf(out,
          "Usage: vdevadm test [OPTIONS] DEVICE\n"
          "Show what the rules would do for an event of DEVICE, doing none of it.\n\n"
          "  -h --help                            show this help\n"
          "  -V --version                         print the version\n"
          "  -a --action=ACTION|help              the event's action (default add)\n"
          "  -N --resolve-names=early|late|never  never: owner and group names in the rules\n"
          "                                       are not looked up (early and late: they\n"
          "                                       are, when the rules are loaded)\n"
          "     --rules-dir=DIR                   read the rules from DIR (repeatable; default\n"
          "                                       as vdevd: its config, then /etc/vdev/rules.d\n"
          "                                       over /usr/lib/vdev/rules.d)\n"
          "     --config=FILE                     vdevd's config file for the defaults\n\n"
          "DEVICE is a devpath (/devices/...), a syspath (/sys/...), a node or a device id.\n"
          "Imports and builtins run (read-only); nodes, links, the database and RUN programs\n"
          "are left alone. Exit status: 0, or 1.\n");
}

struct TestOptions {
  std::string action = "add";
  bool resolve_names = true;
  std::vector<std::string> rules_dirs;
  std::string config;
  std::string device;
};

// vdevd's own defaults and config file decide where rules and helpers are, unless given.
Result<DaemonOptions> DaemonDefaults(const TestOptions& options) {
  std::vector<std::string> args = {"vdevd"};
  if (!options.config.empty()) args.insert(args.end(), {"--config", options.config});
  for (const auto& dir : options.rules_dirs) args.insert(args.end(), {"--rules-dir", dir});
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return ParseDaemonOptions(static_cast<int>(args.size()), argv.data());
}

// The node and link operations vdevd's EventProcessor would make, on a recording writer.
void RecordNodeOperations(const EventState& state, const Uevent& event, bool remove,
                          NodeWriter& nodes) {
  std::string node_name = NodeName(event);
  auto devnum = event.devnum();
  if (node_name.empty() || !devnum) return;
  const bool block = event.subsystem() == "block";
  const std::string devnum_link = DevnumLink(block, *devnum);
  if (remove) {
    (void)nodes.RemoveNode(node_name, block, *devnum);
    (void)nodes.RemoveLink(devnum_link, node_name);
    return;
  }
  NodeSpec node = NodeSpecFor(state, event, node_name, block, *devnum);
  (void)nodes.CreateNode(node);
  for (const auto& link : state.links) (void)nodes.CreateLink(link, node_name);
  (void)nodes.CreateLink(devnum_link, node_name);
}

int Test(const TestOptions& options) {
  RootPaths paths = RootPaths::FromEnvironment();
  auto roots = Roots::Open(paths, false);
  if (!roots) {
    fprintf(stderr, "vdevadm test: %s\n", roots.error().Message().c_str());
    return 1;
  }
  auto devpath = ResolveDeviceArgument(*roots, options.device);
  if (!devpath) {
    if (devpath.error().code == ENOENT)
      fprintf(stderr, "vdevadm test: device '%s' not found\n", options.device.c_str());
    else
      fprintf(stderr, "vdevadm test: device '%s': %s\n", options.device.c_str(),
              devpath.error().Message().c_str());
    return 1;
  }
  auto device = Device::Open(roots->sysfs(), *devpath);
  if (!device) {
    fprintf(stderr, "vdevadm test: %s: %s\n", devpath->c_str(), device.error().Message().c_str());
    return 1;
  }
  auto defaults = DaemonDefaults(options);
  if (!defaults) {
    fprintf(stderr, "vdevadm test: %s\n", defaults.error().context.c_str());
    return 1;
  }

  fprintf(stderr,
          "vdevadm test: a dry run; nothing is created, stored or run (RUN programs are only\n"
          "listed), and results may differ from a real event's.\n");
  // `kmod load` only resolves the modules it would load (libkmod's dry run), as a test must
  // not load drivers.
  ModuleLoaderOptions module_options;
  module_options.dry_run = true;
  module_options.threads = 1;  // one device asks for a module or two
  auto modules = ModuleLoader::Create(module_options);
  SetKmodBuiltinLoader(modules ? modules->get() : nullptr);
  AccountResolver accounts = AccountResolver::System();
  if (!options.resolve_names) {
    accounts.user = [](const std::string&) { return std::optional<uid_t>(); };
    accounts.group = [](const std::string&) { return std::optional<gid_t>(); };
  }
  RuleLoadResult loaded = RuleSet::Load(defaults->rules_dirs, accounts);
  for (const auto& error : loaded.errors) fprintf(stderr, "vdevadm test: %s\n", error.c_str());

  // In the kernel's order: ACTION, DEVPATH, SUBSYSTEM, then the uevent file's lines.
  Uevent event;
  event.Set("ACTION", options.action);
  event.Set("DEVPATH", device->devpath());
  if (!device->subsystem().empty()) event.Set("SUBSYSTEM", device->subsystem());
  for (const auto& [key, value] : device->properties().properties())
    if (!event.Has(key)) event.Set(key, value);
  const bool remove = options.action == "remove";
  // Read-only: the rules may import a parent's properties; nothing is written back.
  auto database = Database::Open(roots->run(), false);
  const Database* records = database ? &*database : nullptr;

  EventState state(Device::FromEvent(roots->sysfs(), event), event);
  state.dev_fd = roots->dev();
  state.dev_root = paths.dev;
  state.database = records;
  state.last_attempt = true;  // probe now, whoever holds the disk's lock
  if (records && options.action != "add") {
    // As vdevd does: a change keeps what earlier events learned.
    if (auto old = records->Read(DeviceId(event))) {
      for (const auto& [key, value] : old->properties)
        if (!event.Has(key)) state.properties.Set(key, value);
    }
  }
  SpawnProgramRunner runner(
      defaults->helper_dirs,
      std::chrono::milliseconds(static_cast<long>(defaults->event_timeout * 1000)));
  RuleTrace trace;
  loaded.rules.Apply(state, runner, &trace);
  for (const auto& rule : trace.matched) printf("rule: %s\n", rule.c_str());
  fflush(stdout);

  RecordingNodeWriter nodes(/*print=*/true);
  RecordNodeOperations(state, event, remove, nodes);
  fflush(stdout);

  Uevent published = state.properties;
  std::string node_name(event.devname());
  if (node_name.starts_with("/dev/")) node_name.erase(0, 5);
  if (!node_name.empty()) published.Set("DEVNAME", JoinRootPath(paths.dev, node_name));
  if (!state.links.empty() && !remove) {
    std::string devlinks;
    for (const auto& link : state.links) {
      if (!devlinks.empty()) devlinks += ' ';
      devlinks += JoinRootPath(paths.dev, link);
    }
    published.Set("DEVLINKS", devlinks);
  }
  if (!state.tags.empty()) {
    published.Set("TAGS", JoinTags(state.tags));
    published.Set("CURRENT_TAGS", JoinTags(state.tags));
  }
  for (const auto& [key, value] : published.properties())
    printf("%s=%s\n", key.c_str(), value.c_str());
  for (const auto& [attribute, value] : state.attribute_writes)
    printf("write: %s = '%s'\n", attribute.c_str(), value.c_str());
  for (const auto& program : state.run_programs) printf("run: '%s'\n", program.c_str());
  if (state.watch && !remove) printf("watch: %s\n", node_name.c_str());
  return fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int RunTest(int argc, char** argv) {
  enum LongOnly { kOptionRulesDir = 0x100, kOptionConfig };
  static const option kOptions[] = {
      {"action", required_argument, nullptr, 'a'},
      {"resolve-names", required_argument, nullptr, 'N'},
      {"rules-dir", required_argument, nullptr, kOptionRulesDir},
      {"config", required_argument, nullptr, kOptionConfig},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  TestOptions options;
  optind = 0;
  opterr = 0;
  for (;;) {
    int option = getopt_long(argc, argv, ":a:N:Vh", kOptions, nullptr);
    if (option == -1) break;
    switch (option) {
      case 'a':
        if (strcmp(optarg, "help") == 0) {
          for (const char* action : kActions) printf("%s\n", action);
          return 0;
        }
        if (!IsKnownAction(optarg)) {
          fprintf(stderr, "vdevadm test: unknown action '%s'\n", optarg);
          return 1;
        }
        options.action = optarg;
        break;
      case 'N':
        if (strcmp(optarg, "early") == 0 || strcmp(optarg, "late") == 0) {
          options.resolve_names = true;
        } else if (strcmp(optarg, "never") == 0) {
          options.resolve_names = false;
        } else {
          fprintf(stderr, "vdevadm test: --resolve-names= must be early, late or never\n");
          return 1;
        }
        break;
      case kOptionRulesDir:
        options.rules_dirs.emplace_back(optarg);
        break;
      case kOptionConfig:
        options.config = optarg;
        break;
      case 'V':
        printf("%s\n", VDEV_VERSION);
        return 0;
      case 'h':
        PrintUsage(stdout);
        return 0;
      default:
        return ReportBadOption("test", option, argv);
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "vdevadm test: a device is required\nTry 'vdevadm test --help'.\n");
    return 1;
  }
  if (optind + 1 < argc) {
    fprintf(stderr, "vdevadm test: extraneous argument '%s'\n", argv[optind + 1]);
    return 1;
  }
  options.device = argv[optind];
  return Test(options);
}

}  // namespace vdev
