#include "common/device.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs_util.h"

namespace vdev {
namespace {

std::string SysnameOf(std::string_view devpath) {
  std::string name(BaseName(devpath));
  for (char& c : name)
    if (c == '!') c = '/';
  return name;
}


}  // namespace

Result<Device> Device::Open(int sysfs_fd, std::string_view devpath) {
  if (!IsValidDevpath(devpath)) return Fail(EINVAL, "invalid devpath");
  Device device(sysfs_fd, std::string(devpath));
  std::string base = device.RelativePath();
  auto content = ReadFileAt(sysfs_fd, base + "/uevent", 64 * 1024);
  if (!content) return tl::unexpected(content.error());
  auto properties = ParseUeventFile(*content);
  if (!properties) return Fail(properties.error().code, base + "/uevent: " + properties.error().context);
  device.properties_ = std::move(*properties);
  device.properties_->Set("DEVPATH", device.devpath_);
  if (!device.subsystem().empty()) device.properties_->Set("SUBSYSTEM", device.subsystem());
  return device;
}

Device Device::FromEvent(int sysfs_fd, const Uevent& event) {
  Device device(sysfs_fd, std::string(event.devpath()));
  device.properties_ = event;
  device.subsystem_ = std::string(event.subsystem());
  if (auto driver = event.Get("DRIVER")) device.driver_ = std::string(*driver);
  return device;
}

const std::string& Device::subsystem() const {
  if (!subsystem_) {
    auto link = ReadLinkAt(sysfs_fd_, RelativePath() + "/subsystem");
    subsystem_ = link ? std::string(BaseName(*link)) : std::string();
  }
  return *subsystem_;
}

const Uevent& Device::properties() const {
  if (!properties_) {
    auto content = ReadFileAt(sysfs_fd_, RelativePath() + "/uevent", 64 * 1024);
    auto parsed = content ? ParseUeventFile(*content) : Result<Uevent>(Uevent());
    properties_ = parsed ? std::move(*parsed) : Uevent();
    properties_->Set("DEVPATH", devpath_);
    if (!subsystem().empty()) properties_->Set("SUBSYSTEM", subsystem());
  }
  return *properties_;
}

const std::string& Device::driver() const {
  if (!driver_) {
    auto link = ReadLinkAt(sysfs_fd_, RelativePath() + "/driver");
    driver_ = link ? std::string(BaseName(*link)) : std::string();
  }
  return *driver_;
}

std::string Device::sysname() const { return SysnameOf(devpath_); }

std::string Device::sysnum() const {
  std::string name = sysname();
  size_t start = name.size();
  while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9') --start;
  return name.substr(start);
}

std::optional<std::string> Device::Attribute(std::string_view name) const {
  if (!IsValidDevpath("/" + std::string(name))) return std::nullopt;
  auto value = ReadAttributeAt(sysfs_fd_, RelativePath() + "/" + std::string(name));
  if (!value) return std::nullopt;
  return std::move(*value);
}

std::optional<Device> Device::Parent() const {
  std::string_view path = devpath_;
  for (;;) {
    size_t slash = path.rfind('/');
    if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
    path = path.substr(0, slash);
    std::string uevent = std::string(path.substr(1)) + "/uevent";
    if (faccessat(sysfs_fd_, uevent.c_str(), F_OK, 0) == 0) return Device(sysfs_fd_, std::string(path));
  }
}

std::string Device::Id() const {
  return DeviceId(subsystem(), devnum(), properties().ifindex(), sysname());
}

std::string DeviceId(std::string_view subsystem, std::optional<dev_t> devnum,
                     std::optional<int> ifindex, std::string_view sysname) {
  if (devnum && (major(*devnum) > 0 || minor(*devnum) > 0)) {
    return (subsystem == "block" ? "b" : "c") + std::to_string(major(*devnum)) + ":" +
           std::to_string(minor(*devnum));
  }
  if (ifindex) return "n" + std::to_string(*ifindex);
  return "+" + std::string(subsystem) + ":" + std::string(sysname);
}

std::string DeviceId(const Uevent& event) {
  return DeviceId(event.subsystem(), event.devnum(), event.ifindex(), SysnameOf(event.devpath()));
}

std::optional<std::string> ResolveDevpathLink(std::string_view link_dir, std::string_view target) {
  if (target.starts_with('/')) return std::nullopt;
  while (link_dir.starts_with('/')) link_dir.remove_prefix(1);
  std::string path = "/" + std::string(link_dir);
  while (!target.empty()) {
    size_t slash = target.find('/');
    std::string_view part = target.substr(0, slash);
    target = slash == std::string_view::npos ? std::string_view() : target.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (path.size() <= 1) return std::nullopt;  // would climb out of the sysfs root
      path.resize(std::max<size_t>(path.rfind('/'), 1));
      continue;
    }
    if (path.size() > 1) path += '/';
    path.append(part);
  }
  if (!IsValidDevpath(path)) return std::nullopt;
  return path;
}

Result<std::string> DevpathFromDevnum(int sysfs_fd, bool block, dev_t devnum) {
  std::string dir = block ? "dev/block" : "dev/char";
  std::string link_name = std::to_string(major(devnum)) + ":" + std::to_string(minor(devnum));
  auto target = ReadLinkAt(sysfs_fd, dir + "/" + link_name);
  if (!target) return tl::unexpected(target.error());
  auto devpath = ResolveDevpathLink(dir, *target);
  if (!devpath) return Fail(EINVAL, "unexpected link target in " + dir + "/" + link_name);
  return *devpath;
}

}  // namespace vdev
