#include "node_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>

#include "common/fs_util.h"

namespace vdev {
namespace {

bool IsNodeOf(const struct stat& st, bool block, dev_t devnum) {
  return (block ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode)) && st.st_rdev == devnum;
}

std::string Describe(bool block, dev_t devnum) {
  return std::string(block ? "b " : "c ") + std::to_string(major(devnum)) + ":" +
         std::to_string(minor(devnum));
}

std::string ModeText(mode_t mode) {
  char buffer[8];
  snprintf(buffer, sizeof(buffer), "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

// mknodat, creating the parent directories only when they are missing (the common case
// costs one call).
int MakeNodeAt(int dev_fd, const std::string& name, mode_t type, dev_t devnum) {
  if (mknodat(dev_fd, name.c_str(), type, devnum) == 0) return 0;
  if (errno != ENOENT || DirName(name).empty()) return -1;
  if (!MakeDirsAt(dev_fd, DirName(name), 0755)) return -1;
  return mknodat(dev_fd, name.c_str(), type, devnum);
}

}  // namespace

std::string RelativeLinkTarget(const std::string& link, const std::string& node_name) {
  std::string target;
  for (char c : link)
    if (c == '/') target += "../";
  return target + node_name;
}

Status DevNodeWriter::CreateNode(const NodeSpec& node) {
  mode_t type = node.block ? S_IFBLK : S_IFCHR;
  // Created with no permissions, then owned and opened up: nobody can open it in between.
  if (MakeNodeAt(dev_fd_, node.name, type, node.devnum) == 0) {
    if (fchownat(dev_fd_, node.name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) < 0)
      return FailErrno("chown " + node.name);
    if (fchmodat(dev_fd_, node.name.c_str(), node.mode & 07777, 0) < 0)
      return FailErrno("chmod " + node.name);
    return Ok();
  }
  if (errno != EEXIST) return FailErrno("mknod " + node.name);
  struct stat st;
  if (fstatat(dev_fd_, node.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return FailErrno("stat " + node.name);
  if (IsNodeOf(st, node.block, node.devnum)) return FixPermissions(node, st);
  // Something else holds the name (a stale node of a reused name, a symlink): build the
  // new node beside it and rename it into place, so the name never goes missing.
  std::string dir(DirName(node.name));
  std::string temp = (dir.empty() ? "" : dir + "/") + TemporaryName(".#vdev");
  if (mknodat(dev_fd_, temp.c_str(), type, node.devnum) < 0) return FailErrno("mknod " + temp);
  if (fchownat(dev_fd_, temp.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) < 0 ||
      fchmodat(dev_fd_, temp.c_str(), node.mode & 07777, 0) < 0 ||
      renameat(dev_fd_, temp.c_str(), dev_fd_, node.name.c_str()) < 0) {
    Error error{errno, "replace " + node.name};
    unlinkat(dev_fd_, temp.c_str(), 0);
    return tl::unexpected(error);
  }
  return Ok();
}

Status DevNodeWriter::SetNodePermissions(const NodeSpec& node) {
  struct stat st;
  if (fstatat(dev_fd_, node.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return FailErrno("stat " + node.name);
  if (!IsNodeOf(st, node.block, node.devnum))
    return Fail(ESTALE, node.name + " is not " + Describe(node.block, node.devnum));
  return FixPermissions(node, st);
}

Status DevNodeWriter::FixPermissions(const NodeSpec& node, const struct stat& st) {
  if ((st.st_uid != node.uid || st.st_gid != node.gid) &&
      fchownat(dev_fd_, node.name.c_str(), node.uid, node.gid, AT_SYMLINK_NOFOLLOW) < 0)
    return FailErrno("chown " + node.name);
  if ((st.st_mode & 07777) != (node.mode & 07777) &&
      fchmodat(dev_fd_, node.name.c_str(), node.mode & 07777, 0) < 0)
    return FailErrno("chmod " + node.name);
  return Ok();
}

Status DevNodeWriter::RemoveNode(const std::string& name, bool block, dev_t devnum) {
  struct stat st;
  if (fstatat(dev_fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return Ok();
    return FailErrno("stat " + name);
  }
  if (!IsNodeOf(st, block, devnum)) return Ok();  // the name belongs to another device now
  if (unlinkat(dev_fd_, name.c_str(), 0) < 0 && errno != ENOENT) return FailErrno("unlink " + name);
  RemoveEmptyParentsAt(dev_fd_, name);
  return Ok();
}

Status DevNodeWriter::CreateLink(const std::string& link, const std::string& node_name) {
  std::string target = RelativeLinkTarget(link, node_name);
  std::string dir(DirName(link));
  // A new link is one call; only an existing one is read and, if it differs, replaced.
  // ENOENT: the directory is missing, or another worker has just removed the last link of
  // a shared one (disk/by-label) between our mkdir and our symlink: make it and try again.
  for (int tries = 0;; ++tries) {
    if (symlinkat(target.c_str(), dev_fd_, link.c_str()) == 0) return Ok();
    if (errno != ENOENT || dir.empty() || tries == 3) break;
    if (auto made = MakeDirsAt(dev_fd_, dir, 0755); !made) return made;
  }
  if (errno != EEXIST) return FailErrno("symlink " + link);
  auto current = ReadLinkAt(dev_fd_, link);
  if (current && *current == target) return Ok();
  std::string temp = (dir.empty() ? "" : dir + "/") + TemporaryName(".#vdev");
  if (symlinkat(target.c_str(), dev_fd_, temp.c_str()) < 0) return FailErrno("symlink " + temp);
  if (renameat(dev_fd_, temp.c_str(), dev_fd_, link.c_str()) < 0) {
    Error error{errno, "rename link " + link};
    unlinkat(dev_fd_, temp.c_str(), 0);
    return tl::unexpected(error);
  }
  return Ok();
}

Status DevNodeWriter::RemoveLink(const std::string& link, const std::string& node_name) {
  auto current = ReadLinkAt(dev_fd_, link);
  if (!current) return current.error().code == ENOENT || current.error().code == EINVAL
                           ? Ok()
                           : Status(tl::unexpected(current.error()));
  if (*current != RelativeLinkTarget(link, node_name)) return Ok();  // claimed by another device
  if (unlinkat(dev_fd_, link.c_str(), 0) < 0 && errno != ENOENT) return FailErrno("unlink " + link);
  RemoveEmptyParentsAt(dev_fd_, link);
  return Ok();
}

void RecordingNodeWriter::Record(std::string line) {
  std::lock_guard lock(mutex_);
  if (print_) {
    printf("%s\n", line.c_str());
    fflush(stdout);  // keep the lines in step with the log on stderr
  }
  lines_.push_back(std::move(line));
}

std::vector<std::string> RecordingNodeWriter::TakeLines() {
  std::lock_guard lock(mutex_);
  return std::move(lines_);
}

Status RecordingNodeWriter::CreateNode(const NodeSpec& node) {
  Record("mknod " + Describe(node.block, node.devnum) + " " + ModeText(node.mode) + " " +
         std::to_string(node.uid) + ":" + std::to_string(node.gid) + " " + node.name);
  return Ok();
}

Status RecordingNodeWriter::SetNodePermissions(const NodeSpec& node) {
  Record("chmod " + Describe(node.block, node.devnum) + " " + ModeText(node.mode) + " " +
         std::to_string(node.uid) + ":" + std::to_string(node.gid) + " " + node.name);
  return Ok();
}

Status RecordingNodeWriter::RemoveNode(const std::string& name, bool block, dev_t devnum) {
  Record("rm " + Describe(block, devnum) + " " + name);
  return Ok();
}

Status RecordingNodeWriter::CreateLink(const std::string& link, const std::string& node_name) {
  Record("ln " + link + " -> " + RelativeLinkTarget(link, node_name));
  return Ok();
}

Status RecordingNodeWriter::RemoveLink(const std::string& link, const std::string& node_name) {
  Record("rmlink " + link);
  return Ok();
}

}  // namespace vdev
