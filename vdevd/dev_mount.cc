#include "dev_mount.h"

#include <libmount.h>

#include <climits>
#include <cstdlib>
#include <memory>

namespace vdev {
namespace {

struct TableFree {
  void operator()(libmnt_table* table) const { mnt_unref_table(table); }
};
struct ContextFree {
  void operator()(libmnt_context* context) const { mnt_free_context(context); }
};

// The fstype mounted exactly on path ("" when path is not a mount point).
Result<std::string> MountedType(const std::string& path) {
  char resolved[PATH_MAX];
  if (!realpath(path.c_str(), resolved)) return FailErrno("resolve " + path);
  std::unique_ptr<libmnt_table, TableFree> table(mnt_new_table());
  if (!table) return Fail(ENOMEM, "mnt_new_table");
  if (int rc = mnt_table_parse_mtab(table.get(), nullptr); rc < 0)
    return Fail(-rc, "read the mount table");
  // Backward: the last mount on a target is the one that is visible.
  libmnt_fs* fs = mnt_table_find_target(table.get(), resolved, MNT_ITER_BACKWARD);
  if (!fs || !mnt_fs_streq_target(fs, resolved)) return std::string();
  const char* type = mnt_fs_get_fstype(fs);
  return std::string(type ? type : "");
}

}  // namespace

Result<DevfsMode> DetectDevfs(const std::string& dev_root) {
  auto type = MountedType(dev_root);
  if (!type) return tl::unexpected(type.error());
  return *type == "devtmpfs" ? DevfsMode::kDevtmpfs : DevfsMode::kTmpfs;
}

Status MountTmpfs(const std::string& dev_root) {
  auto type = MountedType(dev_root);
  if (!type) return tl::unexpected(type.error());
  if (*type == "tmpfs" || *type == "devtmpfs") return Ok();
  std::unique_ptr<libmnt_context, ContextFree> context(mnt_new_context());
  if (!context) return Fail(ENOMEM, "mnt_new_context");
  mnt_context_set_source(context.get(), "tmpfs");
  mnt_context_set_fstype(context.get(), "tmpfs");
  mnt_context_set_target(context.get(), dev_root.c_str());
  mnt_context_set_options(context.get(), "mode=0755,nosuid");
  // Not recorded in a utab: this is a device manager's own mount, not a user's.
  mnt_context_disable_mtab(context.get(), 1);
  int rc = mnt_context_mount(context.get());
  if (rc != 0 || mnt_context_get_status(context.get()) != 1) {
    int error = mnt_context_get_syscall_errno(context.get());
    return Fail(error ? error : EINVAL, "mount tmpfs on " + dev_root);
  }
  return Ok();
}

}  // namespace vdev
