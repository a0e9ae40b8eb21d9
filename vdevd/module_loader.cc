#include "module_loader.h"

#include <fcntl.h>
#include <libkmod.h>
#include <linux/magic.h>
#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "common/fs_util.h"
#include "common/log.h"

namespace vdev {
namespace {

struct ListDeleter {
  void operator()(kmod_list* list) const { kmod_module_unref_list(list); }
};
struct ModuleDeleter {
  void operator()(kmod_module* module) const { kmod_module_unref(module); }
};
using KmodList = std::unique_ptr<kmod_list, ListDeleter>;
using KmodModule = std::unique_ptr<kmod_module, ModuleDeleter>;

// libkmod's own messages repeat what we log with more context: keep them for debugging.
void ForwardKmodLog(void* /*data*/, int /*priority*/, const char* /*file*/, int /*line*/,
                    const char* function, const char* format, va_list args) {
  if (!LogEnabled(LogLevel::kDebug)) return;
  char text[512];
  vsnprintf(text, sizeof(text), format, args);
  size_t length = strlen(text);
  if (length > 0 && text[length - 1] == '\n') text[length - 1] = '\0';
  LogDebug("libkmod %s: %s", function, text);
}

bool IsSysfs(int fd) {
  struct statfs info {};
  return fstatfs(fd, &info) == 0 && info.f_type == SYSFS_MAGIC;
}

}  // namespace

void ModuleLoader::CtxDeleter::operator()(kmod_ctx* ctx) const { kmod_unref(ctx); }

Result<std::unique_ptr<ModuleLoader>> ModuleLoader::Create(const ModuleLoaderOptions& options) {
  std::unique_ptr<ModuleLoader> loader(new ModuleLoader(options));
  if (!loader->ctx_) return Fail(ENOMEM, "kmod_new");
  return loader;
}

std::unique_ptr<kmod_ctx, ModuleLoader::CtxDeleter> ModuleLoader::NewContext() const {
  std::vector<const char*> configs;
  for (const auto& path : config_paths_) configs.push_back(path.c_str());
  configs.push_back(nullptr);
  std::unique_ptr<kmod_ctx, CtxDeleter> ctx(
      kmod_new(modules_dir_.empty() ? nullptr : modules_dir_.c_str(),
               config_paths_.empty() ? nullptr : configs.data()));
  if (ctx) kmod_set_log_fn(ctx.get(), ForwardKmodLog, nullptr);
  return ctx;
}

ModuleLoader::ModuleLoader(const ModuleLoaderOptions& options)
    : dry_run_(options.dry_run),
      modules_dir_(options.modules_dir),
      config_paths_(options.config_paths) {
  ctx_ = NewContext();
  if (!ctx_) return;
  modules_dir_ = kmod_get_dirname(ctx_.get());

  // Without indexes every lookup would fail with an error per device: say it once.
  if (!options.load) {
    LogInfo("module loading off");
  } else if (int loaded = kmod_load_resources(ctx_.get()); loaded < 0) {
    LogNotice("module loading off: no module index in %s (%s)", modules_dir_.c_str(),
              strerror(-loaded));
  } else if (dry_run_) {
    enabled_ = true;
  } else if (auto sysfs = OpenDirAt(AT_FDCWD, options.sysfs_root); !sysfs) {
    LogNotice("module loading off: %s", sysfs.error().Message().c_str());
  } else if (!IsSysfs(sysfs->get())) {
    LogNotice("module loading off: %s is not the kernel's sysfs", options.sysfs_root.c_str());
  } else {
    sysfs_ = std::move(*sysfs);
    enabled_ = true;
  }
  if (!enabled_) return;
  for (size_t i = 0; i < std::max<size_t>(options.threads, 1); ++i)
    threads_.emplace_back([this] { Run(); });
}

ModuleLoader::~ModuleLoader() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void ModuleLoader::Request(std::string_view alias, std::string_view devpath) {
  if (alias.empty()) return;
  std::lock_guard lock(mutex_);
  ++stats_.requested;
  if (!enabled_ || stop_) {
    ++stats_.skipped;
    return;
  }
  if (!seen_.emplace(alias).second) {
    ++stats_.duplicates;
    return;
  }
  // Queued under the same lock that idle() takes: the loader is busy before the event
  // that asked is done, so a settle cannot slip in between.
  queue_.push_back({std::string(alias), std::string(devpath)});
  wake_.notify_one();
}

bool ModuleLoader::idle() const {
  std::lock_guard lock(mutex_);
  return queue_.empty() && busy_ == 0;
}

void ModuleLoader::SetIdleCallback(IdleCallback callback) {
  std::unique_lock lock(mutex_);
  // The old callback may be running on the loader thread right now, and what it uses may
  // be about to go away (the daemon's event loop): wait for it.
  idle_cv_.wait(lock, [this] { return callbacks_ == 0; });
  on_idle_ = std::move(callback);
}

bool ModuleLoader::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_cv_.wait_for(lock, timeout, [this] { return queue_.empty() && busy_ == 0; });
}

ModuleLoaderStats ModuleLoader::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void ModuleLoader::Run() {
  auto ctx = NewContext();
  if (ctx && kmod_load_resources(ctx.get()) < 0) ctx.reset();
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    Pending request = std::move(queue_.front());
    queue_.pop_front();
    ++busy_;
    lock.unlock();
    if (ctx) {
      Load(ctx.get(), request);
    } else {
      LogWarning("module %s: no libkmod context, ignoring", request.alias.c_str());
    }
    lock.lock();
    --busy_;
    if (queue_.empty() && busy_ == 0) {
      IdleCallback on_idle = on_idle_;
      idle_cv_.notify_all();
      if (on_idle) {
        // Outside the lock: the callback may well ask idle().
        ++callbacks_;
        lock.unlock();
        on_idle();
        lock.lock();
        --callbacks_;
        idle_cv_.notify_all();
      }
    }
  }
  // Dropped requests: whoever waits for idle must not wait forever.
  queue_.clear();
  idle_cv_.notify_all();
}

bool ModuleLoader::DeviceAsks(const Pending& request) const {
  if (dry_run_ || request.devpath.empty()) return true;
  std::string path = request.devpath.substr(request.devpath.find_first_not_of('/'));
  auto uevent = ReadFileAt(sysfs_.get(), path + "/uevent", 64 * 1024);
  if (!uevent) return false;
  // A module name rather than an alias (`kmod load tifm_sd`): the device's existence is
  // enough.
  if (request.alias.find(':') == std::string::npos) return true;
  std::string line = "MODALIAS=" + request.alias + "\n";
  return ("\n" + *uevent + "\n").find("\n" + line) != std::string::npos;
}

Result<std::vector<std::string>> ModuleLoader::ResolveLocked(std::string_view alias) {
  std::string key(alias);
  if (auto cached = resolved_.find(key); cached != resolved_.end()) return cached->second;
  kmod_list* raw = nullptr;
  int found = kmod_module_new_from_lookup(ctx_.get(), key.c_str(), &raw);
  KmodList list(raw);
  if (found < 0) return Fail(-found, "module lookup of " + key);
  std::vector<std::string> names;
  kmod_list* entry;
  kmod_list_foreach(entry, list.get()) {
    KmodModule module(kmod_module_get_module(entry));
    // A module matching through several of its aliases is listed once per alias.
    std::string name = kmod_module_get_name(module.get());
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  resolved_.emplace(std::move(key), names);
  return names;
}

Result<std::vector<std::string>> ModuleLoader::Resolve(std::string_view alias) {
  std::lock_guard lock(kmod_mutex_);
  return ResolveLocked(alias);
}

void ModuleLoader::Load(kmod_ctx* ctx, const Pending& request) {
  const char* alias = request.alias.c_str();
  auto count = [this](size_t ModuleLoaderStats::*field) {
    std::lock_guard lock(mutex_);
    ++(stats_.*field);
  };
  if (!DeviceAsks(request)) {
    LogDebug("module %s: %s is not in the kernel's sysfs with that alias, not loading", alias,
             request.devpath.c_str());
    // Gone already, or never the kernel's: the next device with this alias asks afresh.
    std::lock_guard lock(mutex_);
    seen_.erase(request.alias);
    ++stats_.skipped;
    return;
  }

  kmod_list* raw = nullptr;
  int found = kmod_module_new_from_lookup(ctx, alias, &raw);
  KmodList list(raw);
  if (found < 0) {
    LogWarning("module lookup of %s: %s, ignoring", alias, strerror(-found));
    count(&ModuleLoaderStats::failed);
    return;
  }
  if (!list) {
    LogDebug("no module for %s", alias);
    count(&ModuleLoaderStats::unresolved);
    return;
  }

  std::vector<std::string> names;
  bool failed = false;
  const int flags = KMOD_PROBE_APPLY_BLACKLIST | (dry_run_ ? KMOD_PROBE_DRY_RUN : 0);
  kmod_list* entry;
  kmod_list_foreach(entry, list.get()) {
    KmodModule module(kmod_module_get_module(entry));
    const char* name = kmod_module_get_name(module.get());
    if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
    // Many aliases name the same module (every CPU feature, each port of a card).
    {
      std::lock_guard lock(mutex_);
      if (!loaded_.emplace(name).second) continue;
    }
    int state = kmod_module_get_initstate(module.get());
    if (state == KMOD_MODULE_BUILTIN || state == KMOD_MODULE_LIVE || state == KMOD_MODULE_COMING) {
      LogDebug("module %s (for %s) is %s", name, alias,
               state == KMOD_MODULE_BUILTIN ? "built in" : "already loaded");
      continue;
    }
    int inserted =
        kmod_module_probe_insert_module(module.get(), flags, nullptr, nullptr, nullptr, nullptr);
    if (inserted == 0) {
      LogInfo("%s module %s for %s", dry_run_ ? "would insert" : "inserted", name, alias);
      count(&ModuleLoaderStats::inserted);
    } else if (inserted == KMOD_PROBE_APPLY_BLACKLIST) {
      LogInfo("module %s for %s is blacklisted", name, alias);
    } else if (inserted == -ENODEV) {
      // The usual answer of a driver that the alias matched but that found nothing to drive.
      LogInfo("module %s for %s: %s, ignoring", name, alias, strerror(-inserted));
    } else {
      LogWarning("module %s for %s: %s, ignoring", name, alias, strerror(-inserted));
      failed = true;
    }
  }
  if (failed) count(&ModuleLoaderStats::failed);
  std::lock_guard cache_lock(kmod_mutex_);
  resolved_.emplace(request.alias, std::move(names));
}

}  // namespace vdev
