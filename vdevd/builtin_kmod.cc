#include "builtin_kmod.h"

#include <atomic>
#include <cerrno>
#include <memory>
#include <mutex>
#include <string>

#include "common/log.h"
#include "common/roots.h"

namespace vdev {
namespace {

std::atomic<ModuleLoader*> installed_loader{nullptr};

ModuleLoader* DefaultLoader() {
  // Created on first use and kept for the process's life: its destructor joins the
  // loader thread at exit.
  static std::unique_ptr<ModuleLoader> loader = [] {
    ModuleLoaderOptions options;
    options.sysfs_root = RootPaths::FromEnvironment().sysfs;
    auto created = ModuleLoader::Create(options);
    if (!created) {
      LogError("kmod: %s, ignoring", created.error().Message().c_str());
      return std::unique_ptr<ModuleLoader>();
    }
    return std::move(*created);
  }();
  return loader.get();
}

}  // namespace

void SetKmodBuiltinLoader(ModuleLoader* loader) { installed_loader.store(loader); }

ModuleLoader* KmodBuiltinLoader() {
  if (ModuleLoader* loader = installed_loader.load()) return loader;
  return DefaultLoader();
}

Status RunKmodBuiltin(BuiltinCall& call) {
  if (call.args.empty() || call.args[0] != "load")
    return Fail(EINVAL, "kmod: expected 'load [MODULE...]'");
  ModuleLoader* loader = KmodBuiltinLoader();
  if (!loader) return Fail(ENOSYS, "kmod: no module loader");
  const std::string& devpath = call.state.device.devpath();
  if (call.args.size() == 1) {
    auto modalias = call.state.properties.Get("MODALIAS");
    if (!modalias || modalias->empty()) return Ok();
    loader->Request(*modalias, devpath);
    return Ok();
  }
  for (size_t i = 1; i < call.args.size(); ++i) loader->Request(call.args[i], devpath);
  return Ok();
}

}  // namespace vdev
