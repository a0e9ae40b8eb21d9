// StaticNodes: what --boot puts in a fresh dev root before any uevent: the nodes and links
// every system expects (console, null, fd, stdin ...), the pts and shm mount points, and
// the nodes of modules that load on first open (modules.devname, as `kmod static-nodes`
// lists them: /dev/fuse, /dev/loop-control, /dev/net/tun ...). Nothing existing is touched:
// on a devtmpfs the kernel made most of them already.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vdev {

struct StaticNode {
  enum class Kind { kChar, kBlock, kLink, kDirectory };
  std::string name;  // relative to the dev root ("net/tun")
  Kind kind = Kind::kChar;
  unsigned major = 0, minor = 0;
  mode_t mode = 0600;  // permission bits (nodes and directories)
  std::string target;  // kLink
};

// The fixed set, as devtmpfs makes the nodes (modes included) and systemd's dev-setup
// the links. ptmx is the node 5:2, not a link to pts/ptmx: since Linux 4.7 the node finds
// the devpts instance mounted on the "pts" beside it, which is what initramfs-tools and
// devtmpfs rely on too.
std::vector<StaticNode> BaseStaticNodes();

// Parses modules.devname ("module name type major:minor" lines, '#' comments, type c or
// b): nodes of mode 0600, as `kmod static-nodes` gives them; the rules set their real
// owner and mode once the module is loaded. Malformed lines are skipped.
std::vector<StaticNode> ParseModulesDevname(std::string_view text);

// Creates nodes below dev_fd: missing parent directories (0755) are made, anything that
// exists under a name is left as it is. Returns how many entries were created; a failure
// for one entry is logged and the others are still made.
[[nodiscard]] Result<size_t> CreateStaticNodes(int dev_fd, const std::vector<StaticNode>& nodes);

// BaseStaticNodes() plus modules_dir/modules.devname (modules_dir is
// /lib/modules/<release>; a missing file adds nothing).
std::vector<StaticNode> BootStaticNodes(const std::string& modules_dir);

// "/lib/modules/" + the running kernel's release.
std::string RunningKernelModulesDir();

}  // namespace vdev
