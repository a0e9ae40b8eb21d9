#include "udev_context.h"

#include <fcntl.h>

#include "common/fs_util.h"

namespace vdev::compat {
namespace {

std::string WithoutTrailingSlashes(std::string path) {
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

UniqueFd OpenRoot(const std::string& path) {
  auto fd = OpenDirAt(AT_FDCWD, path.empty() ? "/" : path);
  // A missing root is not an error yet: lookups below it fail (EBADF) and read as "no such
  // device", as they would below an empty /sys.
  return fd ? std::move(*fd) : UniqueFd();
}

std::optional<std::string_view> Below(std::string_view path, std::string_view prefix) {
  if (path.size() <= prefix.size() || !path.starts_with(prefix) || path[prefix.size()] != '/')
    return std::nullopt;
  return path.substr(prefix.size());
}

}  // namespace

Context::Context(RootPaths paths)
    : paths_(std::move(paths)),
      sysfs_prefix_(WithoutTrailingSlashes(paths_.sysfs)),
      dev_prefix_(WithoutTrailingSlashes(paths_.dev)),
      sysfs_(OpenRoot(paths_.sysfs)),
      dev_(OpenRoot(paths_.dev)),
      run_(OpenRoot(paths_.run)) {}

std::shared_ptr<Context> Context::FromEnvironment() {
  return std::make_shared<Context>(RootPaths::FromEnvironment());
}

std::optional<std::string_view> Context::DevpathOf(std::string_view syspath) const {
  if (auto below = Below(syspath, sysfs_prefix_)) return below;
  return Below(syspath, "/sys");
}

std::string Context::DevPath(std::string_view relative) const {
  std::string path = dev_prefix_;
  path += '/';
  path.append(relative);
  return path;
}

std::optional<std::string_view> Context::RelativeDevPath(std::string_view path) const {
  auto below = Below(path, dev_prefix_);
  if (!below) below = Below(path, "/dev");
  if (!below) return std::nullopt;
  below->remove_prefix(1);
  return below;
}

const Database* Context::database() const {
  std::lock_guard lock(database_mutex_);
  if (!database_ && run_) {
    auto opened = Database::Open(run_.get(), /*create=*/false);
    if (opened) database_ = std::move(*opened);
  }
  return database_ ? &*database_ : nullptr;
}

std::shared_ptr<Context> ContextOf(struct udev* udev) {
  if (udev) return udev->context;
  // Programs that pass no context share one, so that every device made that way does not
  // hold three directory fds of its own; it lives while any object made from it does.
  static std::mutex mutex;
  static std::weak_ptr<Context> shared;
  std::lock_guard lock(mutex);
  std::shared_ptr<Context> context = shared.lock();
  if (!context) {
    context = Context::FromEnvironment();
    shared = context;
  }
  return context;
}

}  // namespace vdev::compat
