// NodeWriter: every side effect on the dev root (nodes, owners, modes, symlinks) goes through
// this seam. DevNodeWriter does it; RecordingNodeWriter records it for --dry-run and tests.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"

namespace vdev {

struct NodeSpec {
  std::string name;  // relative to the dev root, may contain directories ("input/event3")
  bool block = false;
  dev_t devnum = 0;
  mode_t mode = 0600;  // permission bits only
  uid_t uid = 0;
  gid_t gid = 0;
};

class NodeWriter {
 public:
  virtual ~NodeWriter() = default;
  // tmpfs: creates the node (and its directories) or fixes an existing one; a different
  // file at that name (a reused name with another device number) is replaced atomically.
  [[nodiscard]] virtual Status CreateNode(const NodeSpec& node) = 0;
  // devtmpfs: the kernel made the node; only owner and mode are set, and only when the
  // file there is still the node of this device number.
  [[nodiscard]] virtual Status SetNodePermissions(const NodeSpec& node) = 0;
  // Removes name only while it is still the node of this device number: the name may
  // already belong to a new device (loop0 again).
  [[nodiscard]] virtual Status RemoveNode(const std::string& name, bool block, dev_t devnum) = 0;
  // Points link (relative to the dev root) at node_name with a relative symlink, replacing
  // whatever symlink was there atomically.
  [[nodiscard]] virtual Status CreateLink(const std::string& link, const std::string& node_name) = 0;
  // Removes link only while it still points at node_name.
  [[nodiscard]] virtual Status RemoveLink(const std::string& link, const std::string& node_name) = 0;
};

// The relative symlink text from link to node_name: ("disk/by-id/x", "sda") -> "../../sda".
std::string RelativeLinkTarget(const std::string& link, const std::string& node_name);

class DevNodeWriter : public NodeWriter {
 public:
  explicit DevNodeWriter(int dev_fd) : dev_fd_(dev_fd) {}
  Status CreateNode(const NodeSpec& node) override;
  Status SetNodePermissions(const NodeSpec& node) override;
  Status RemoveNode(const std::string& name, bool block, dev_t devnum) override;
  Status CreateLink(const std::string& link, const std::string& node_name) override;
  Status RemoveLink(const std::string& link, const std::string& node_name) override;

 private:
  // Owner and mode of the node st describes, changed only where they differ.
  Status FixPermissions(const NodeSpec& node, const struct stat& st);
  int dev_fd_;  // not owned
};

// Records each call as one readable line ("mknod c 1:3 0666 0:0 null"); changes nothing.
class RecordingNodeWriter : public NodeWriter {
 public:
  // With print, each line also goes to stdout as it is recorded (--dry-run).
  explicit RecordingNodeWriter(bool print = false) : print_(print) {}
  Status CreateNode(const NodeSpec& node) override;
  Status SetNodePermissions(const NodeSpec& node) override;
  Status RemoveNode(const std::string& name, bool block, dev_t devnum) override;
  Status CreateLink(const std::string& link, const std::string& node_name) override;
  Status RemoveLink(const std::string& link, const std::string& node_name) override;

  std::vector<std::string> TakeLines();

 private:
  void Record(std::string line);
  bool print_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace vdev
