// The udevadm command lines Debian's boot scripts run, run against vdevadm while vdevd
// manages a private tmpfs dev root on this machine's kernel (real sysfs, real netlink, real
// loop devices). Each line is quoted as the script has it, with the file and line it comes
// from, and checked twice: it is understood (udevadm's exit status) and it does its job
// (what the script relies on afterwards has happened).
//
// Sources (Debian 12 packages, unpacked with apt-get download && dpkg-deb -x):
//   initramfs-tools-core 0.142+deb12u3: usr/share/initramfs-tools/scripts/{functions,local}
//   udev 252.39-1~deb12u2: etc/init.d/udev, usr/share/initramfs-tools/scripts/{init-top,
//     init-bottom}/udev, usr/share/bug/udev/script, lib/udev/hwdb.d/*, lib/udev/rules.d/*
//   mdadm 4.2-5: usr/share/initramfs-tools/scripts/local-block/mdadm
//   lvm2 2.03.16-2: sbin/lvmdump
//   multipath-tools-boot 0.9.4-3+deb12u2: usr/share/initramfs-tools/scripts/local-top/multipath
//   cryptsetup 2:2.6.1-4~deb12u2: lib/cryptsetup/cryptdisks-functions, usr/sbin/luksformat
//
// The machine-wide triggers are what every boot does: the kernel re-sends "add" for every
// bus, driver, module and device; nothing listens to it here but vdevd (no udevd runs).
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/disk_images.h"
#include "vdevd_fixture.h"

namespace vdev::testing {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kImageSize = 8 * 1024 * 1024;

// A script's line as words (none of the quoted lines needs a shell); "udevadm" becomes the
// vdevadm under test.
std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  if (!words.empty() && words[0] == "udevadm") words[0] = kBinDir + "vdevadm";
  return words;
}

class UdevadmCompatTest : public VdevdFixture {
 protected:
  void TearDown() override {
    // Detach before the daemon stops, so a failed test leaves no loop device behind.
    for (const std::string& loop : attached_) RunCommand({"losetup", "-d", loop});
    VdevdFixture::TearDown();
  }

  // Runs a udevadm command line against the daemon; stdout (and stderr with with_stderr).
  CommandResult Udevadm(const std::string& line, bool with_stderr = false) {
    return RunCommand(Words(line), VdevadmEnv(), with_stderr);
  }

  std::string Dev(const std::string& name) const { return dev_ + "/" + name; }

  bool HasRecord(const std::string& id) const { return PathExists(run_ + "/udev/data/" + id); }

  // An 8 MiB image (ext4 with uuid when given) attached with losetup; "/dev/loopN".
  std::string Attach(const std::string& uuid = "") {
    std::string image = dir_.Sub("image" + std::to_string(attached_.size()));
    EXPECT_TRUE(MakeSparseFile(image, kImageSize));
    if (!uuid.empty()) {
      EXPECT_TRUE(MakeExt4(image, "", uuid));
    }
    auto attached = RunCommand({"losetup", "-f", "--show", image});
    EXPECT_EQ(attached.status, 0);
    std::string loop = Trim(attached.output);
    if (!loop.empty()) attached_.push_back(loop);
    return loop;
  }

  void Detach(const std::string& loop) {
    EXPECT_EQ(RunCommand({"losetup", "-d", loop}).status, 0);
    attached_.erase(std::remove(attached_.begin(), attached_.end(), loop), attached_.end());
  }

  // A private copy of the shipped rules, so that a test can add a rule and reload.
  std::string CopyRules() {
    std::string rules = dir_.Sub("rules");
    fs::create_directories(rules);
    for (const auto& entry : fs::directory_iterator(kRulesDir))
      if (entry.path().extension() == ".rules")
        fs::copy_file(entry.path(), rules + "/" + entry.path().filename().string());
    return rules;
  }

  // `vdevadm monitor --udev` writing into a file until Stop; returns once it listens.
  Child StartMonitor(const std::string& file) {
    UniqueFd out(open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    EXPECT_TRUE(out);
    Child monitor =
        Child::Spawn({kBinDir + "vdevadm", "monitor", "--udev"}, VdevadmEnv(), {{out.get(), 1}});
    EXPECT_TRUE(WaitUntil([&] { return ReadFile(file).ends_with("processing\n\n"); }, seconds(10)))
        << ReadFile(file);
    return monitor;
  }

  std::vector<std::string> attached_;
};

// --- the initramfs: scripts/init-top/udev, scripts/functions, scripts/init-bottom/udev ----

TEST_F(UdevadmCompatTest, InitramfsPopulatesDevSettlesAndStopsTheDaemon) {
  // init-top/udev:24 starts the daemon without a coldplug; the triggers below do it.
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));
  ASSERT_FALSE(PathExists(Dev("null"))) << "nothing should be there before the triggers";
  std::string events_file = dir_.Sub("monitor.out");
  Child monitor = StartMonitor(events_file);

  // udev 252: usr/share/initramfs-tools/scripts/init-top/udev:26
  EXPECT_EQ(Udevadm("udevadm trigger --type=subsystems --action=add").status, 0);
  // udev 252: usr/share/initramfs-tools/scripts/init-top/udev:27
  EXPECT_EQ(Udevadm("udevadm trigger --type=devices --action=add").status, 0);
  // udev 252: usr/share/initramfs-tools/scripts/init-top/udev:28 ("udevadm settle || true")
  EXPECT_EQ(Udevadm("udevadm settle").status, 0);
  // Settled means processed: the nodes and records are there now, without waiting.
  EXPECT_TRUE(PathExists(Dev("null")));
  EXPECT_TRUE(PathExists(Dev("zero")));
  EXPECT_TRUE(HasRecord("c1:3"));
  if (PathExists("/sys/devices/virtual/misc/loop-control")) {
    EXPECT_TRUE(PathExists(Dev("loop-control")));
  }

  // initramfs-tools-core: scripts/functions:392 "udevadm settle ${1:+--timeout=$1}", called
  // as "wait_for_udev 10" from scripts/local:54 (and mdadm, cryptroot, nfs).
  EXPECT_EQ(Udevadm("udevadm settle --timeout=10").status, 0);
  // multipath-tools-boot: scripts/local-top/multipath:54 ("/bin/udevadm settle --timeout=10")
  EXPECT_EQ(Udevadm("udevadm settle --timeout=10").status, 0);
  // cryptsetup: lib/cryptsetup/cryptdisks-functions:174
  EXPECT_EQ(Udevadm("udevadm settle").status, 0);
  // cryptsetup: usr/sbin/luksformat:102 (system 'udevadm', 'settle', '--timeout=30')
  EXPECT_EQ(Udevadm("udevadm settle --timeout=30").status, 0);

  // The subsystem events (buses, drivers, modules) went through vdevd too.
  monitor.Stop(SIGTERM, seconds(10));
  std::string events = ReadFile(events_file);
  EXPECT_NE(events.find(" add      /bus/"), std::string::npos) << events.substr(0, 2000);
  EXPECT_NE(events.find(" add      /devices/virtual/mem/null (mem)\n"), std::string::npos);

  // udev 252: usr/share/initramfs-tools/scripts/init-bottom/udev:15
  EXPECT_EQ(Udevadm("udevadm control --exit").status, 0);
  // --exit returns once the daemon is gone.
  EXPECT_EQ(daemon_.Wait(seconds(30)), std::optional<int>(0));
}

// --- the real root: udev 252's etc/init.d/udev "start" and "reload" -----------------------

TEST_F(UdevadmCompatTest, InitScriptCleansUpTriggersSettlesAndReloads) {
  std::string rules = CopyRules();
  // The initramfs' daemon has run and left its records.
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}, rules));
  ASSERT_EQ(Settle(), 0);
  ASSERT_TRUE(HasRecord("c1:3"));
  ASSERT_EQ(Udevadm("udevadm control --exit").status, 0);
  ASSERT_EQ(daemon_.Wait(seconds(30)), std::optional<int>(0));

  // udev 252: etc/init.d/udev:162
  EXPECT_EQ(Udevadm("udevadm info --cleanup-db").status, 0);
  EXPECT_FALSE(HasRecord("c1:3"));
  EXPECT_TRUE(fs::is_empty(run_ + "/udev/data"));

  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}, rules));
  unlink(Dev("null").c_str());
  // udev 252: etc/init.d/udev:182
  EXPECT_EQ(Udevadm("udevadm trigger --type=subsystems --action=add").status, 0);
  // udev 252: etc/init.d/udev:188
  EXPECT_EQ(Udevadm("udevadm trigger --type=devices --action=add").status, 0);
  // udev 252: etc/init.d/udev:198
  EXPECT_EQ(Udevadm("udevadm settle").status, 0);
  EXPECT_TRUE(HasRecord("c1:3"));
  EXPECT_TRUE(PathExists(Dev("null")));

  // "reload": a rule added meanwhile is in force afterwards.
  std::ofstream(rules + "/99-compat-test.rules") << "[compat-null]\n"
                                                    "subsystem = mem\n"
                                                    "kernel = null\n"
                                                    "symlink = compat-null\n";
  // udev 252: etc/init.d/udev:242
  EXPECT_EQ(Udevadm("udevadm control --reload-rules").status, 0);
  // A change event through the rules, waited for by its UUID (trigger --settle).
  auto trigger = Udevadm("udevadm trigger --action=change --sysname-match=null --settle --uuid");
  EXPECT_EQ(trigger.status, 0);
  std::istringstream lines(trigger.output);
  std::string uuid, settled;
  std::getline(lines, uuid);
  std::getline(lines, settled);
  EXPECT_EQ(uuid.size(), 36u) << trigger.output;
  EXPECT_EQ(settled, "settle " + uuid) << trigger.output;
  EXPECT_EQ(fs::read_symlink(Dev("compat-null")), "null");
}

// --- mdadm 4.2: usr/share/initramfs-tools/scripts/local-block/mdadm ------------------------

TEST_F(UdevadmCompatTest, MdadmRetriggersTheBlockDevices) {
  if (!FindTool("losetup")) GTEST_SKIP() << "needs losetup";
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}));
  std::string loop = Attach();
  ASSERT_FALSE(loop.empty());
  std::string name = fs::path(loop).filename();
  ASSERT_EQ(Settle(), 0);
  ASSERT_TRUE(PathExists(Dev(name)));
  ASSERT_EQ(unlink(Dev(name).c_str()), 0);

  // mdadm: scripts/local-block/mdadm:30 ("udevadm trigger --action=add -s block || true")
  EXPECT_EQ(Udevadm("udevadm trigger --action=add -s block").status, 0);
  // mdadm: scripts/local-block/mdadm:31 "wait_for_udev 10" = scripts/functions:392
  EXPECT_EQ(Udevadm("udevadm settle --timeout=10").status, 0);
  EXPECT_TRUE(PathExists(Dev(name)));
  Detach(loop);
}

// --- info: what bug scripts, lvmdump and users parse ---------------------------------------

TEST_F(UdevadmCompatTest, InfoLines) {
  if (!FindTool("losetup")) GTEST_SKIP() << "needs losetup";
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}));
  std::string loop = Attach();
  ASSERT_FALSE(loop.empty());
  std::string name = fs::path(loop).filename();
  std::string devpath = "/devices/virtual/block/" + name;
  ASSERT_EQ(Settle(), 0);

  // udev 252: usr/share/bug/udev/script:11; lvm2: sbin/lvmdump:313
  auto exported = Udevadm("udevadm info --export-db");
  EXPECT_EQ(exported.status, 0);
  EXPECT_NE(exported.output.find("P: /devices/virtual/mem/null\nM: null\nU: mem\nD: c 1:3\n"
                                 "N: null\n"),
            std::string::npos);
  EXPECT_NE(exported.output.find("E: DEVNAME=" + Dev("null") + "\n"), std::string::npos);
  EXPECT_NE(exported.output.find("P: " + devpath + "\n"), std::string::npos);

  // lvm2: sbin/lvmdump:312
  auto version = Udevadm("udevadm info --version");
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.output, std::string(VDEV_VERSION) + "\n");

  // The properties of one device, as scripts read them (the lead's brief: "info
  // --query=property --name=..."); the node named by its real /dev path.
  auto properties = Udevadm("udevadm info --query=property --name=" + loop);
  EXPECT_EQ(properties.status, 0);
  for (const std::string& line :
       std::vector<std::string>{"DEVPATH=" + devpath, "SUBSYSTEM=block", "DEVNAME=" + Dev(name),
                                "MAJOR=7", "DEVTYPE=disk"})
    EXPECT_NE(properties.output.find(line + "\n"), std::string::npos) << line;
  EXPECT_NE(properties.output.find("USEC_INITIALIZED="), std::string::npos);

  // udev 252: lib/udev/hwdb.d/60-sensor.hwdb:13 ("udevadm info -q path -n /dev/iio:device0",
  // the device swapped for the loop device)
  auto path = Udevadm("udevadm info -q path -n " + loop);
  EXPECT_EQ(path.status, 0);
  EXPECT_EQ(path.output, devpath + "\n");
  // udev 252: lib/udev/hwdb.d/60-evdev.hwdb:45 ("udevadm info /dev/input/eventXX", swapped)
  auto record = Udevadm("udevadm info " + loop);
  EXPECT_EQ(record.status, 0);
  EXPECT_TRUE(record.output.starts_with("P: " + devpath + "\nM: " + name + "\n")) << record.output;

  // The attribute walk (udevadm(8): info --attribute-walk), what rule writers read.
  auto walk = Udevadm("udevadm info --attribute-walk --name=" + loop);
  EXPECT_EQ(walk.status, 0);
  EXPECT_NE(walk.output.find("  looking at device '" + devpath + "':\n    KERNEL==\"" + name +
                             "\"\n    SUBSYSTEM==\"block\"\n    DRIVER==\"\"\n"),
            std::string::npos)
      << walk.output;
  EXPECT_NE(walk.output.find("    ATTR{size}==\"16384\"\n"), std::string::npos) << walk.output;

  auto unknown = Udevadm("udevadm info --query=property --name=/dev/no-such-device");
  EXPECT_EQ(unknown.status, 1);
  Detach(loop);
}

// --- trigger lines from udev's own rules and hwdb documentation ---------------------------

TEST_F(UdevadmCompatTest, TriggerLinesFromUdevsRulesAndDocs) {
  if (!FindTool("losetup")) GTEST_SKIP() << "needs losetup";
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}));
  std::string loop = Attach();
  ASSERT_FALSE(loop.empty());
  std::string name = fs::path(loop).filename();
  ASSERT_EQ(Settle(), 0);
  struct stat st {};
  ASSERT_EQ(stat(Dev(name).c_str(), &st), 0);
  std::string devnum_link =
      "block/" + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
  ASSERT_TRUE(PathExists(Dev(devnum_link)));
  ASSERT_EQ(unlink(Dev(devnum_link).c_str()), 0);

  // udev 252: lib/udev/hwdb.d/60-evdev.hwdb:37 ("udevadm trigger /dev/input/eventXX", swapped)
  EXPECT_EQ(Udevadm("udevadm trigger " + loop).status, 0);
  EXPECT_EQ(Udevadm("udevadm settle").status, 0);
  EXPECT_TRUE(PathExists(Dev(devnum_link))) << "the change event was not processed";

  // udev 252: lib/udev/hwdb.d/60-sensor.hwdb:27 ("udevadm trigger -v -p
  // DEVNAME=/dev/iio:deviceXXX", swapped; DEVNAME is below the private dev root here)
  auto selected = Udevadm("udevadm trigger -v -p DEVNAME=" + Dev(name));
  EXPECT_EQ(selected.status, 0);
  EXPECT_EQ(selected.output, "/sys/devices/virtual/block/" + name + "\n");

  // udev 252: lib/udev/rules.d/64-btrfs.rules:15 (RUN+="/bin/udevadm trigger -s block -p
  // ID_BTRFS_READY=0"): no such device here, so nothing is triggered, and that is success.
  auto btrfs = Udevadm("udevadm trigger -v -s block -p ID_BTRFS_READY=0");
  EXPECT_EQ(btrfs.status, 0);
  EXPECT_EQ(btrfs.output, "");
  Detach(loop);
}

// --- wait (udevadm(8), systemd 252): a link that appears, a by-diskseq name, a removal ------

TEST_F(UdevadmCompatTest, WaitForLinksToAppearAndGo) {
  if (!FindTool("losetup") || !FindTool("mkfs.ext4")) GTEST_SKIP() << "needs losetup, mkfs.ext4";
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}));
  const std::string uuid = Trim(ReadFile("/proc/sys/kernel/random/uuid"));
  const std::string by_uuid = "/dev/disk/by-uuid/" + uuid;

  // Started before the device exists: returns once the link is there and vdevd is done.
  Child wait = Child::Spawn(Words("udevadm wait --timeout=60 " + by_uuid), VdevadmEnv());
  ASSERT_GT(wait.pid(), 0);
  std::string loop = Attach(uuid);
  ASSERT_FALSE(loop.empty());
  EXPECT_EQ(wait.Wait(seconds(60)), std::optional<int>(0));
  EXPECT_TRUE(PathExists(Dev("disk/by-uuid/" + uuid)));

  // A by-diskseq name: the medium's sequence number.
  std::string name = fs::path(loop).filename();
  std::string diskseq = Trim(ReadFile("/sys/block/" + name + "/diskseq"));
  if (!diskseq.empty()) {
    EXPECT_EQ(Udevadm("udevadm wait --settle -t 10 /dev/disk/by-diskseq/" + diskseq).status, 0);
  }
  // The syspath works too, and --initialized=no only asks that it exists.
  EXPECT_EQ(Udevadm("udevadm wait --initialized=no -t 10 /sys/block/" + name).status, 0);

  Child gone = Child::Spawn(Words("udevadm wait --removed --timeout=60 " + by_uuid), VdevadmEnv());
  ASSERT_GT(gone.pid(), 0);
  Detach(loop);
  EXPECT_EQ(gone.Wait(seconds(60)), std::optional<int>(0));
  EXPECT_FALSE(PathExists(Dev("disk/by-uuid/" + uuid)));

  auto timeout = Udevadm("udevadm wait --timeout=0.5 /dev/disk/by-uuid/" + uuid);
  EXPECT_EQ(timeout.status, 1);
}

// --- control: the exec queue (udevadm control -s / -S), test ------------------------------

TEST_F(UdevadmCompatTest, StoppedExecQueueHoldsEventsUntilStarted) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}));
  ASSERT_EQ(Settle(), 0);
  auto stopped = Udevadm("udevadm control --stop-exec-queue", true);
  if (stopped.status != 0 && stopped.output.find("not supported") != std::string::npos)
    GTEST_SKIP() << "vdevd's Daemon does not implement StopExecQueue yet: " << stopped.output;
  ASSERT_EQ(stopped.status, 0) << stopped.output;
  // RUN/udev/queue tells libudev's udev_queue (ours and systemd's) that events are pending.
  const std::string queue_file = run_ + "/udev/queue";
  EXPECT_FALSE(PathExists(queue_file));
  ASSERT_EQ(unlink(Dev("null").c_str()), 0);
  EXPECT_EQ(Udevadm("udevadm trigger --action=add --sysname-match=null").status, 0);
  // The event is queued, not run: the queue does not settle and the node stays away.
  EXPECT_EQ(Udevadm("udevadm settle --timeout=1").status, 1);
  EXPECT_FALSE(PathExists(Dev("null")));
  EXPECT_TRUE(PathExists(queue_file));
  EXPECT_EQ(Udevadm("udevadm control --start-exec-queue").status, 0);
  EXPECT_EQ(Udevadm("udevadm settle --timeout=30").status, 0);
  EXPECT_TRUE(PathExists(Dev("null")));
  EXPECT_FALSE(PathExists(queue_file));
}

TEST_F(UdevadmCompatTest, TestShowsTheRulesWorkAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}));
  ASSERT_EQ(Settle(), 0);
  ASSERT_EQ(unlink(Dev("null").c_str()), 0);
  // udevadm(8): "udevadm test [OPTIONS] DEVPATH"
  auto test = RunCommand({kBinDir + "vdevadm", "test", "--rules-dir=" + kRulesDir, "--action=add",
                          "/sys/class/mem/null"},
                         VdevadmEnv());
  EXPECT_EQ(test.status, 0);
  EXPECT_NE(test.output.find("mknod c 1:3 0666 0:0 null\n"), std::string::npos) << test.output;
  EXPECT_NE(test.output.find("DEVNAME=" + Dev("null") + "\n"), std::string::npos);
  EXPECT_FALSE(PathExists(Dev("null")));  // shown, not made
}

}  // namespace
}  // namespace vdev::testing
