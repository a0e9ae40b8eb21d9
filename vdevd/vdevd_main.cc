// vdevd: the device manager daemon. The only file that knows the concrete types: it reads
// the options, builds the parts and hands them to the Daemon.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <cstring>
#include <memory>
#include <optional>

#include "common/database.h"
#include "common/fs_util.h"
#include "common/log.h"
#include "common/roots.h"
#include "daemon.h"
#include "daemon_options.h"
#include "daemonize.h"
#include "builtin_kmod.h"
#include "dev_mount.h"
#include "event_processor.h"
#include "module_loader.h"
#include "node_writer.h"
#include "pid_file.h"
#include "rule_set.h"
#include "rule_store.h"
#include "service_notify.h"
#include "spawn_program_runner.h"
#include "static_nodes.h"

namespace vdev {
namespace {

void LogRuleErrors(const std::vector<std::string>& errors) {
  for (const auto& error : errors) LogError("%s", error.c_str());
}

bool LoadsModules(const DaemonOptions& options) {
  if (options.modules != ModuleLoading::kAuto) return options.modules == ModuleLoading::kOn;
  // A private dev root shares the machine's kernel with its real device manager; so does
  // a filtered instance (a chroot's /dev and /sys are spelled like the real ones).
  if (!options.allow.empty() || !options.deny.empty()) return false;
  namespace fs = std::filesystem;
  return fs::path(options.roots.dev).lexically_normal() == "/dev" &&
         fs::path(options.roots.sysfs).lexically_normal() == "/sys";
}

// --daemon changes to "/" after the fork: every path must not depend on the old cwd.
void MakePathsAbsolute(DaemonOptions& options) {
  namespace fs = std::filesystem;
  auto absolute = [](std::string& path) {
    std::error_code ignored;
    if (!path.empty()) path = fs::absolute(path, ignored).lexically_normal().string();
  };
  absolute(options.roots.dev);
  absolute(options.roots.sysfs);
  absolute(options.roots.run);
  absolute(options.pid_file);
  for (auto& dir : options.rules_dirs) absolute(dir);
  for (auto& dir : options.helper_dirs) absolute(dir);
}

int Main(int argc, char** argv) {
  // Signals are read through a signalfd by the loop: block them before any thread starts so
  // that every thread inherits the mask. SIGPIPE would kill us on a vanished client.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Database records and state files get exactly the modes they are created with (0644).
  umask(022);

  auto parsed = ParseDaemonOptions(argc, argv);
  if (!parsed) {
    fprintf(stderr, "vdevd: %s\nTry 'vdevd --help'.\n", parsed.error().context.c_str());
    return 2;
  }
  DaemonOptions options = std::move(*parsed);
  if (options.help) {
    fputs(DaemonUsage(), stdout);
    return 0;
  }
  if (options.version) {
    puts("vdevd " VDEV_VERSION);
    return 0;
  }
  SetLogLevel(options.log_level);
  const bool listen = !options.once && options.replay_path.empty();
  if (options.daemon && options.pid_file.empty())
    options.pid_file = options.roots.run + "/vdev/vdevd.pid";
  if (options.daemon) MakePathsAbsolute(options);
  // Before a --boot mounts anything on the dev root and before --daemon forks, so the
  // message reaches the one who started us.
  if (listen && !options.dry_run && !options.check_config && UdevdIsRunning(options.roots.run)) {
    fprintf(stderr, "vdevd: systemd-udevd is running (%s/udev/control answers); refusing to "
            "start a second device manager\n", options.roots.run.c_str());
    return 1;
  }
  ServiceNotifier notifier = ServiceNotifier::FromEnvironment();

  // Before any thread or socket: the worker and module-loader threads would not survive it.
  std::optional<DaemonChild> detached;
  if (options.daemon) {
    auto forked = DaemonChild::Fork();
    if (!forked) {
      fprintf(stderr, "vdevd: %s\n", forked.error().Message().c_str());
      return 1;
    }
    detached = std::move(*forked);
  }
  SetLogTarget(options.log_target, "vdevd");
  // Logs a fatal error and, with --daemon, hands it to the waiting parent.
  auto fail = [&detached](const std::string& message) {
    LogError("%s", message.c_str());
    if (detached) detached->Failed(message);
    return 1;
  };

  PidFile pid_file;
  if (!options.pid_file.empty() && !options.check_config) {
    auto created = PidFile::Create(options.pid_file);
    if (!created) return fail(created.error().Message());
    pid_file = std::move(*created);
  }

  RuleLoadResult loaded = RuleSet::Load(options.rules_dirs);
  LogRuleErrors(loaded.errors);
  if (options.check_config) {
    printf("%zu rules loaded, %zu errors\n", loaded.rules.size(), loaded.errors.size());
    return loaded.errors.empty() ? 0 : 1;
  }

  if (options.dry_run) {
    // Nothing the dry run does may touch the real database or control socket.
    char run_template[] = "/tmp/vdevd-dry-run.XXXXXX";
    if (!mkdtemp(run_template)) return fail(std::string("mkdtemp: ") + strerror(errno));
    options.roots.run = run_template;
    LogNotice("dry run: nodes are only printed; database in %s", run_template);
  } else {
    // A private dev root that does not exist yet is made, as the run dir is.
    if (auto made = MakeDirsAt(AT_FDCWD, options.roots.dev, 0755); !made)
      return fail(made.error().Message());
  }
  if ((options.mount_tmpfs || options.boot) && !options.dry_run) {
    if (auto mounted = MountTmpfs(options.roots.dev); !mounted)
      return fail(mounted.error().Message());
  }
  if (options.devfs == DevfsMode::kAuto) {
    auto detected = DetectDevfs(options.roots.dev);
    if (!detected) return fail(detected.error().Message());
    options.devfs = *detected;
  }

  auto roots = Roots::Open(options.roots, /*create_state=*/true);
  if (!roots) return fail(roots.error().Message());
  auto database = Database::Open(roots->run(), /*create=*/true);
  if (!database) return fail(database.error().Message());
  if (options.boot) {
    // Before any uevent: what programs started meanwhile (and the rules' own) expect.
    auto created = CreateStaticNodes(roots->dev(), BootStaticNodes(RunningKernelModulesDir()));
    if (created) LogInfo("boot: %zu static nodes and links made", *created);
  }
  if (detached) {
    // The dev root's null when it has one (a --boot on an empty /dev has just made it).
    std::string null_path = options.roots.dev + "/null";
    struct stat st;
    if (stat(null_path.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) null_path = "/dev/null";
    if (auto closed = detached->DetachStdio(null_path, options.log_target == LogTarget::kStderr);
        !closed)
      return fail(closed.error().Message());
  }

  std::unique_ptr<NodeWriter> nodes;
  if (options.dry_run) {
    nodes = std::make_unique<RecordingNodeWriter>(/*print=*/true);
  } else {
    nodes = std::make_unique<DevNodeWriter>(roots->dev());
  }
  SpawnProgramRunner runner(options.helper_dirs,
                            std::chrono::milliseconds(static_cast<long>(options.event_timeout * 1000)));
  RuleStore rules;
  rules.Set(std::make_shared<const RuleSet>(std::move(loaded.rules)));

  ProcessorOptions processor_options;
  processor_options.devtmpfs = options.devfs == DevfsMode::kDevtmpfs;
  processor_options.dev_root_path = options.roots.dev;
  processor_options.write_attributes = !options.dry_run;
  EventProcessor processor(*roots, *database, *nodes, rules, runner, processor_options);

  auto reload = [&options, &rules]() -> Status {
    RuleLoadResult reloaded = RuleSet::Load(options.rules_dirs);
    if (!reloaded.errors.empty()) {
      LogRuleErrors(reloaded.errors);
      return Fail(EINVAL, reloaded.errors.front());
    }
    rules.Set(std::make_shared<const RuleSet>(std::move(reloaded.rules)));
    LogNotice("rules reloaded");
    return Ok();
  };
  // Before the first event, so the kmod builtin never makes a default loader of its own.
  ModuleLoaderOptions module_options;
  module_options.sysfs_root = options.roots.sysfs;
  module_options.dry_run = options.dry_run;
  module_options.load = LoadsModules(options);
  auto modules = ModuleLoader::Create(module_options);
  if (!modules) LogError("%s: drivers are not loaded", modules.error().Message().c_str());
  ModuleLoader* loader = modules ? modules->get() : nullptr;
  SetKmodBuiltinLoader(loader);

  LogNotice("managing %s (%s) from %s", options.roots.dev.c_str(),
            processor_options.devtmpfs ? "devtmpfs" : "tmpfs", options.roots.sysfs.c_str());
  int status;
  {
    Daemon daemon(options, *roots, *database,
                  [&processor](Uevent&& event, bool last_attempt) {
                    return processor.Process(std::move(event), last_attempt);
                  },
                  reload, loader);
    daemon.SetReadyCallback([&detached, &notifier] {
      if (detached) detached->Ready();
      if (auto told = notifier.Ready(); !told)
        LogWarning("%s, ignoring", told.error().Message().c_str());
    });
    status = daemon.Run();
    if (detached && !detached->reported()) {
      detached->Failed(!daemon.start_error().empty() ? daemon.start_error()
                                                     : "the daemon stopped before it was ready");
    }
  }
  if (auto told = notifier.Stopping(); !told)
    LogDebug("%s, ignoring", told.error().Message().c_str());
  if (options.dry_run) {
    std::error_code ignored;
    std::filesystem::remove_all(options.roots.run, ignored);
  }
  return status;
}

}  // namespace
}  // namespace vdev

int main(int argc, char** argv) { return vdev::Main(argc, argv); }
