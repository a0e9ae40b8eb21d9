#include "static_nodes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>

#include "common/fs_util.h"
#include "common/log.h"
#include "common/numbers.h"
#include "substitution.h"

namespace vdev {
namespace {

using Kind = StaticNode::Kind;

StaticNode Node(const char* name, unsigned major, unsigned minor, mode_t mode) {
  return {name, Kind::kChar, major, minor, mode, {}};
}
StaticNode Link(const char* name, const char* target) {
  return {name, Kind::kLink, 0, 0, 0777, target};
}
StaticNode Directory(const char* name, mode_t mode) {
  return {name, Kind::kDirectory, 0, 0, mode, {}};
}

Status CreateOne(int dev_fd, const StaticNode& node) {
  if (auto parent = DirName(node.name); !parent.empty()) {
    if (auto made = MakeDirsAt(dev_fd, parent, 0755); !made) return made;
  }
  int rc = 0;
  switch (node.kind) {
    case Kind::kChar:
    case Kind::kBlock:
      rc = mknodat(dev_fd, node.name.c_str(),
                   (node.kind == Kind::kChar ? S_IFCHR : S_IFBLK) | node.mode,
                   makedev(node.major, node.minor));
      break;
    case Kind::kLink:
      rc = symlinkat(node.target.c_str(), dev_fd, node.name.c_str());
      break;
    case Kind::kDirectory:
      rc = mkdirat(dev_fd, node.name.c_str(), node.mode);
      break;
  }
  if (rc < 0) return FailErrno("create " + node.name);
  // The umask (022) took bits that null (0666) and shm (1777) must have; the entry was
  // just made by us and is not a link.
  if (node.kind != Kind::kLink && fchmodat(dev_fd, node.name.c_str(), node.mode, 0) < 0)
    return FailErrno("chmod " + node.name);
  return Ok();
}

}  // namespace

std::vector<StaticNode> BaseStaticNodes() {
  return {
      Node("console", 5, 1, 0600),
      Node("null", 1, 3, 0666),
      Node("zero", 1, 5, 0666),
      Node("full", 1, 7, 0666),
      Node("random", 1, 8, 0666),
      Node("urandom", 1, 9, 0666),
      Node("kmsg", 1, 11, 0644),
      Node("tty", 5, 0, 0666),
      Node("ptmx", 5, 2, 0666),
      Link("fd", "/proc/self/fd"),
      Link("stdin", "/proc/self/fd/0"),
      Link("stdout", "/proc/self/fd/1"),
      Link("stderr", "/proc/self/fd/2"),
      Link("core", "/proc/kcore"),
      Directory("pts", 0755),
      Directory("shm", 01777),
  };
}

std::vector<StaticNode> ParseModulesDevname(std::string_view text) {
  std::vector<StaticNode> nodes;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto fields = SplitWords(line);
    if (fields.size() != 3) continue;
    std::string_view name = fields[1], number = fields[2];
    if (!IsSafeLinkName(name) || number.size() < 4 || (number[0] != 'c' && number[0] != 'b'))
      continue;
    size_t colon = number.find(':');
    if (colon == std::string_view::npos) continue;
    auto major = ParseNumber<unsigned>(number.substr(1, colon - 1));
    auto minor = ParseNumber<unsigned>(number.substr(colon + 1));
    if (!major || !minor) continue;
    nodes.push_back({std::string(name),
                     number[0] == 'c' ? Kind::kChar : Kind::kBlock,
                     *major,
                     *minor,
                     0600,
                     {}});
  }
  return nodes;
}

Result<size_t> CreateStaticNodes(int dev_fd, const std::vector<StaticNode>& nodes) {
  size_t created = 0;
  for (const auto& node : nodes) {
    struct stat st;
    if (fstatat(dev_fd, node.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
    if (errno != ENOENT) {
      LogWarning("static node %s: %s, ignoring", node.name.c_str(), strerror(errno));
      continue;
    }
    if (auto made = CreateOne(dev_fd, node); !made) {
      // Raced with devtmpfs or another writer: what is there now stays.
      if (made.error().code != EEXIST)
        LogWarning("static node: %s, ignoring", made.error().Message().c_str());
      continue;
    }
    ++created;
  }
  return created;
}

std::vector<StaticNode> BootStaticNodes(const std::string& modules_dir) {
  std::vector<StaticNode> nodes = BaseStaticNodes();
  auto devname = ReadFileAt(AT_FDCWD, modules_dir + "/modules.devname");
  if (!devname) {
    LogDebug("%s, no static nodes of modules", devname.error().Message().c_str());
    return nodes;
  }
  for (auto& node : ParseModulesDevname(*devname)) nodes.push_back(std::move(node));
  return nodes;
}

std::string RunningKernelModulesDir() {
  utsname name{};
  uname(&name);
  return std::string("/lib/modules/") + name.release;
}

}  // namespace vdev
