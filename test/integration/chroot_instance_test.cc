// A vdevd instance in a chroot, as image builders run one: a small busybox root with
// vdevd and its libraries, `unshare -m` + a bind-mounted /sys + `chroot`, a private tmpfs
// /dev and `--allow block:loop*`. A loop device attached on the host gets its by-uuid link
// in the chroot's /dev; nothing else is managed there, and nothing changes outside the
// chroot's dev root and run dir (the host's /dev and /run/udev, the rest of the root).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <map>
#include <set>

#include "fixtures/disk_images.h"
#include "vdevd_fixture.h"

namespace vdev::testing {
namespace {

namespace fs = std::filesystem;

// One line per entry below root on root's own file system (mounts below, such as
// /dev/pts or /dev/shm that other programs use, are not ours to compare): its type, mode,
// owner, device number and link target.
std::map<std::string, std::string> Listing(const std::string& root,
                                           const std::set<std::string>& skip = {}) {
  std::map<std::string, std::string> entries;
  struct stat top;
  if (lstat(root.c_str(), &top) != 0) return entries;
  std::vector<std::string> pending = {""};
  while (!pending.empty()) {
    std::string relative = pending.back();
    pending.pop_back();
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(root + "/" + relative, error)) {
      std::string name =
          (relative.empty() ? "" : relative + "/") + entry.path().filename().string();
      if (skip.count(name)) continue;
      struct stat st;
      if (lstat(entry.path().c_str(), &st) != 0 || st.st_dev != top.st_dev) continue;
      std::string line = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" +
                         std::to_string(st.st_gid) + " " + std::to_string(major(st.st_rdev)) + ":" +
                         std::to_string(minor(st.st_rdev));
      if (S_ISLNK(st.st_mode)) line += " -> " + fs::read_symlink(entry.path(), error).string();
      if (S_ISREG(st.st_mode)) line += " size " + std::to_string(st.st_size);
      entries[name] = line;
      if (S_ISDIR(st.st_mode)) pending.push_back(name);
    }
  }
  return entries;
}

// The differences between two listings, for a failure message.
std::string Diff(const std::map<std::string, std::string>& before,
                 const std::map<std::string, std::string>& after) {
  std::string text;
  for (const auto& [name, line] : before) {
    auto it = after.find(name);
    if (it == after.end())
      text += "- " + name + " " + line + "\n";
    else if (it->second != line)
      text += "~ " + name + " " + line + " => " + it->second + "\n";
  }
  for (const auto& [name, line] : after)
    if (!before.count(name)) text += "+ " + name + " " + line + "\n";
  return text;
}

// The shared libraries ldd names for program (and the dynamic loader), as absolute paths.
std::vector<std::string> Libraries(const std::string& program) {
  std::vector<std::string> libraries;
  auto ldd = RunCommand({"ldd", program});
  std::istringstream lines(ldd.output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string word;
    while (words >> word)
      if (word.starts_with("/")) libraries.push_back(word);
  }
  return libraries;
}

class ChrootInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: unshare -m, mounts, chroot, loop devices";
    busybox_ = FindTool("busybox").value_or("");
    if (busybox_.empty() ||
        RunCommand({busybox_, "--list"}).output.find("chroot") == std::string::npos)
      GTEST_SKIP() << "needs busybox (Debian: busybox-static)";
    if (!FindTool("unshare") || !FindTool("losetup") || !FindTool("mkfs.ext4") || !FindTool("ldd"))
      GTEST_SKIP() << "needs unshare, losetup, mkfs.ext4 and ldd";
    root_ = dir_.Sub("root");
    ASSERT_NO_FATAL_FAILURE(BuildRoot());
  }

  void TearDown() override {
    daemon_.Stop(SIGTERM, seconds(30));
    if (!loop_.empty()) RunCommand({"losetup", "-d", loop_});
    if (HasFailure()) std::cerr << "--- vdevd stderr ---\n" << ReadFile(log_) << "---\n";
  }

  void Copy(const std::string& from, const std::string& to) {
    fs::create_directories(fs::path(to).parent_path());
    std::error_code error;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, error);
    ASSERT_FALSE(error) << from << ": " << error.message();
  }

  // busybox, vdevd, vdevadm with their libraries, the rules, and the passwd and group
  // files the rules' owners are looked up in.
  void BuildRoot() {
    for (const char* dir : {"bin", "sbin", "usr/sbin", "usr/bin", "etc", "sys", "dev", "run", "tmp",
                            "usr/lib/vdev/rules.d"})
      fs::create_directories(root_ + "/" + dir);
    ASSERT_NO_FATAL_FAILURE(Copy(busybox_, root_ + "/bin/busybox"));
    fs::create_symlink("busybox", root_ + "/bin/sh");
    for (const char* program : {"vdevd", "vdevadm"}) {
      std::string path = kBinDir + program;
      ASSERT_TRUE(PathExists(path)) << path;
      ASSERT_NO_FATAL_FAILURE(Copy(
          path, root_ + (program == std::string("vdevd") ? "/usr/sbin/" : "/usr/bin/") + program));
      fs::permissions(
          root_ + (program == std::string("vdevd") ? "/usr/sbin/" : "/usr/bin/") + program,
          fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
      for (const auto& library : Libraries(path)) {
        // The loader is named by its absolute path; libraries by where ldd found them.
        std::error_code error;
        fs::path real = fs::canonical(library, error);
        ASSERT_FALSE(error) << library;
        ASSERT_NO_FATAL_FAILURE(Copy(real, root_ + library));
      }
    }
    for (const auto& rule : fs::directory_iterator(kRulesDir)) {
      if (rule.path().extension() != ".rules") continue;
      ASSERT_NO_FATAL_FAILURE(
          Copy(rule.path(), root_ + "/usr/lib/vdev/rules.d/" + rule.path().filename().string()));
    }
    for (const char* file : {"/etc/passwd", "/etc/group"})
      ASSERT_NO_FATAL_FAILURE(Copy(file, root_ + file));
  }

  // unshare -m; in the new mount namespace: /sys bound into the root, a tmpfs on its /dev,
  // then chroot and exec vdevd (the process keeps its pid through the execs). Waits for
  // its readiness on fd 3.
  void StartInChroot(const std::vector<std::string>& extra) {
    std::string script = "set -e; mount --bind /sys '" + root_ + "/sys'; mount -t tmpfs -o " +
                         "mode=0755,nosuid tmpfs '" + root_ + "/dev'; exec chroot '" + root_ +
                         "' /usr/sbin/vdevd --ready-fd 3 --log-level info --devfs tmpfs";
    for (const auto& arg : extra) script += " '" + arg + "'";
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd ready(pipe_fds[0]), ready_write(pipe_fds[1]);
    log_ = dir_.Sub("vdevd.log");
    UniqueFd log(open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    daemon_ =
        Child::Spawn({"unshare", "-m", "--propagation", "private", busybox_, "sh", "-c", script},
                     {}, {{ready_write.get(), 3}, {log.get(), 2}});
    ASSERT_GT(daemon_.pid(), 0);
    ready_write.reset();
    pollfd readable{ready.get(), POLLIN, 0};
    ASSERT_EQ(poll(&readable, 1, 60000), 1) << "vdevd did not become ready within 60 s";
    char c = 0;
    ASSERT_EQ(read(ready.get(), &c, 1), 1) << "vdevd exited before it was ready";
    ASSERT_EQ(Trim(ReadFile("/proc/" + std::to_string(daemon_.pid()) + "/comm")), "vdevd");
    // The chroot's /dev exists only in the daemon's mount namespace: seen through its root.
    chroot_dev_ = "/proc/" + std::to_string(daemon_.pid()) + "/root/dev";
  }

  TempDir dir_{"vdev-chroot"};
  std::string busybox_, root_, log_, chroot_dev_, loop_;
  Child daemon_;
};

TEST_F(ChrootInstanceTest, LoopDeviceGetsItsLinkAndNothingElseChanges) {
  // The image, and its loop device made once before the listings: attaching may create a
  // loop device, and with it a node on the host's devtmpfs, which is the kernel's doing.
  std::string image = dir_.Sub("image.ext4");
  const std::string uuid = Trim(ReadFile("/proc/sys/kernel/random/uuid"));
  ASSERT_TRUE(MakeSparseFile(image, 16 << 20));
  ASSERT_TRUE(MakeExt4(image, "chrooted", uuid));
  loop_ = Trim(RunCommand({"losetup", "-f", "--show", image}).output);
  ASSERT_FALSE(loop_.empty());
  ASSERT_EQ(RunCommand({"losetup", "-d", loop_}).status, 0);
  std::string name = fs::path(loop_).filename();

  const std::set<std::string> inside = {"dev", "run"};
  auto host_dev_before = Listing("/dev");
  auto host_udev_before = Listing("/run/udev");
  auto root_before = Listing(root_, inside);

  ASSERT_NO_FATAL_FAILURE(StartInChroot({"--allow", "block:loop*"}));
  ASSERT_EQ(RunCommand({"losetup", loop_, image}).status, 0);
  std::string link = chroot_dev_ + "/disk/by-uuid/" + uuid;
  ASSERT_TRUE(WaitUntil([&] { return PathExists(link); }, seconds(20)))
      << "no " << link << "; the chroot's /dev holds:\n"
      << Diff({}, Listing(chroot_dev_));
  EXPECT_EQ(fs::read_symlink(link), "../../" + name);
  struct stat st;
  ASSERT_EQ(stat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  struct stat host_node;
  ASSERT_EQ(stat(loop_.c_str(), &host_node), 0);
  EXPECT_EQ(st.st_rdev, host_node.st_rdev);

  // Only loop block devices were managed: no tty, no mem nodes, no character device at
  // all, no block device but loops.
  auto managed = Listing(chroot_dev_);
  for (const char* absent : {"null", "zero", "tty", "tty0", "console", "mem", "kmsg", "ptmx",
                             "loop-control", "input", "snd"})
    EXPECT_EQ(managed.count(absent), 0u) << absent << " was made in the chroot";
  for (const auto& [path, line] : managed) {
    struct stat entry;
    ASSERT_EQ(lstat((chroot_dev_ + "/" + path).c_str(), &entry), 0) << path;
    EXPECT_FALSE(S_ISCHR(entry.st_mode)) << path << " is a character device";
    if (S_ISBLK(entry.st_mode)) {
      EXPECT_TRUE(fs::path(path).filename().string().starts_with("loop")) << path;
    }
  }
  EXPECT_TRUE(PathExists(root_ + "/run/udev/data/b" + std::to_string(major(host_node.st_rdev)) +
                         ":" + std::to_string(minor(host_node.st_rdev))));

  // Detached: the link goes.
  ASSERT_EQ(RunCommand({"losetup", "-d", loop_}).status, 0);
  loop_.clear();
  EXPECT_TRUE(WaitUntil([&] { return !PathExists(link); }, seconds(20)));
  EXPECT_EQ(daemon_.Stop(SIGTERM, seconds(30)), 0);

  EXPECT_EQ(Diff(host_dev_before, Listing("/dev")), "") << "the host's /dev changed";
  EXPECT_EQ(Diff(host_udev_before, Listing("/run/udev")), "") << "the host's /run/udev changed";
  EXPECT_EQ(Diff(root_before, Listing(root_, inside)), "")
      << "the chroot changed outside its dev root and run dir";
}

}  // namespace
}  // namespace vdev::testing
