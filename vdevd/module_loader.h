// ModuleLoader: loads the kernel modules that devices ask for (their MODALIAS) through
// libkmod, on threads of its own, so that no event waits while a driver initializes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

struct kmod_ctx;

namespace vdev {

struct ModuleLoaderOptions {
  // The modules tree with depmod's indexes; empty: libkmod's default (the running
  // kernel's tree).
  std::string modules_dir;
  // modprobe.d-style files or directories (blacklists, options, softdeps, install
  // commands); empty: libkmod's defaults.
  std::vector<std::string> config_paths;
  // The kernel's sysfs. Modules are only inserted when this is a real sysfs and the
  // requesting device is in it with that MODALIAS: a fake tree in a test or a bench must
  // never load drivers into the running kernel.
  std::string sysfs_root = "/sys";
  // Resolve and walk the dependencies but insert nothing (libkmod's dry run); the sysfs
  // checks are skipped. For tests and --dry-run.
  bool dry_run = false;
  // false: nothing is looked up or loaded, every request is dropped (--modules=no, a
  // private dev root).
  bool load = true;
  // Modules inserted at once. A driver's init often sleeps (USB and HDA probes, firmware
  // timeouts), so a few run side by side even on one core, as udev's workers do.
  size_t threads = 4;
};

struct ModuleLoaderStats {
  size_t requested = 0;   // Request() calls
  size_t duplicates = 0;  // dropped at once: the alias was already handled or queued
  size_t skipped = 0;     // not loaded: loading is off, or the device is not the kernel's
  size_t unresolved = 0;  // aliases no module matches (most PCI bridges, CPU features ...)
  size_t inserted = 0;    // modules inserted (or, in a dry run, that would have been)
  size_t failed = 0;      // aliases whose lookup or a module's insertion failed
};

class ModuleLoader {
 public:
  using IdleCallback = std::function<void()>;

  // Creates the libkmod context once and loads its indexes. A tree without indexes or a
  // sysfs that is not the kernel's is no error: loading is off (one notice says why) and
  // every request is dropped. Fails only when libkmod cannot be set up at all.
  [[nodiscard]] static Result<std::unique_ptr<ModuleLoader>> Create(
      const ModuleLoaderOptions& options = {});

  // Finishes the modules being inserted, drops what is still queued, joins the threads.
  ~ModuleLoader();
  ModuleLoader(const ModuleLoader&) = delete;
  ModuleLoader& operator=(const ModuleLoader&) = delete;

  // Thread-safe; returns at once. alias is a MODALIAS or a module name or alias; devpath is
  // the device that asked (empty: no device check). Each alias is looked up and loaded once
  // per loader: later requests for it are dropped here. Failures are logged, never fatal.
  void Request(std::string_view alias, std::string_view devpath = {});

  // The modules alias resolves to (empty when none matches), looked up now. Thread-safe.
  [[nodiscard]] Result<std::vector<std::string>> Resolve(std::string_view alias);

  // True when nothing is queued or being loaded. A settle must see an idle event queue
  // first, then an idle loader, then an empty netlink socket: events that ran before the
  // queue went idle have made their requests by then, and a module's synchronous probing
  // has sent its uevents before the loader goes idle.
  bool idle() const;

  // Called on a loader thread each time the last queued request is done (the loader
  // became idle). Keep it short and thread-safe, e.g. post a wake-up to the event loop.
  // Once this returns, the previous callback is neither running nor called again: set an
  // empty one before what the callback uses goes away. Never call it from the callback.
  void SetIdleCallback(IdleCallback callback);

  // Blocks until the loader is idle or timeout passes; true when idle.
  bool WaitIdle(std::chrono::milliseconds timeout);

  // Whether requests can load anything (indexes found; a real sysfs unless dry_run).
  bool enabled() const { return enabled_; }
  const std::string& modules_dir() const { return modules_dir_; }
  ModuleLoaderStats stats() const;

 private:
  struct CtxDeleter {
    void operator()(kmod_ctx* ctx) const;
  };
  struct Pending {
    std::string alias;
    std::string devpath;
  };

  explicit ModuleLoader(const ModuleLoaderOptions& options);
  // A context of its own for a loader thread: libkmod's contexts are not thread-safe.
  std::unique_ptr<kmod_ctx, CtxDeleter> NewContext() const;
  void Run();
  void Load(kmod_ctx* ctx, const Pending& request);
  // Whether the kernel's uevent file of devpath lists MODALIAS=alias (for a module name:
  // whether the device exists at all).
  bool DeviceAsks(const Pending& request) const;
  Result<std::vector<std::string>> ResolveLocked(std::string_view alias);

  const bool dry_run_;
  bool enabled_ = false;
  std::string modules_dir_;
  std::vector<std::string> config_paths_;
  UniqueFd sysfs_;

  // Resolve()'s context and the alias cache that every thread fills.
  std::mutex kmod_mutex_;
  std::unique_ptr<kmod_ctx, CtxDeleter> ctx_;
  std::unordered_map<std::string, std::vector<std::string>> resolved_;  // alias -> modules

  mutable std::mutex mutex_;         // guards everything below
  std::condition_variable wake_;     // the thread: work queued or stopping
  std::condition_variable idle_cv_;  // WaitIdle
  std::deque<Pending> queue_;
  std::unordered_set<std::string> seen_;    // aliases queued or handled
  std::unordered_set<std::string> loaded_;  // modules inserted or being inserted (any outcome)
  size_t busy_ = 0;       // threads working on a request taken from queue_
  size_t callbacks_ = 0;  // on_idle_ calls running (outside the lock)
  bool stop_ = false;
  IdleCallback on_idle_;
  ModuleLoaderStats stats_;

  std::vector<std::thread> threads_;  // last: started once everything above is set up
};

}  // namespace vdev
