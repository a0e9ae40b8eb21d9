// ModuleLoader and the kmod builtin against a real depmod'ed modules tree: the one the VM
// tier extracts (BUILD/vm-cache, made by test/vm/fetch-kernel.sh). Without it the tests
// that need a tree skip, saying so. Nothing is ever inserted here: insertion is exercised
// in the VM boot test only.
#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "builtin_kmod.h"
#include "common/unique_fd.h"
#include "module_loader.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

using std::chrono::seconds;

// What qemu's ICH9 AHCI controller and a virtio disk announce.
constexpr char kAhciAlias[] = "pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01";
constexpr char kVirtioBlkAlias[] = "virtio:d00000002v00001AF4";
constexpr char kNobodysAlias[] = "pci:v0000FFFEd0000FFFEsv0000FFFEsd0000FFFEbcFEscFEiFE";

// BUILD/vm-cache/root/lib/modules/VERSION, or "" when the VM tier has not fetched a kernel.
std::string ModulesTree() {
  std::string cache = VDEV_BINARY_DIR "/vm-cache";
  std::ifstream version_file(cache + "/kernel-version");
  std::string version;
  if (!std::getline(version_file, version) || version.empty()) return "";
  std::string tree = cache + "/root/lib/modules/" + version;
  std::ifstream index(tree + "/modules.alias.bin");
  return index ? tree : "";
}

constexpr char kNoTree[] = "no modules tree in " VDEV_BINARY_DIR
                           "/vm-cache (run test/vm/fetch-kernel.sh " VDEV_BINARY_DIR ")";

// A loader for tree; a dry run unless sysfs_root is given (which is then checked).
std::unique_ptr<ModuleLoader> MakeLoader(const std::string& tree,
                                         const std::string& sysfs_root = "") {
  ModuleLoaderOptions options;
  options.modules_dir = tree;
  options.dry_run = sysfs_root.empty();
  if (!sysfs_root.empty()) options.sysfs_root = sysfs_root;
  auto loader = ModuleLoader::Create(options);
  if (!loader) ADD_FAILURE() << loader.error().Message();
  return loader ? std::move(*loader) : nullptr;
}

TEST(ModuleLoaderTest, ResolvesHardwareAliasesToTheirDrivers) {
  std::string tree = ModulesTree();
  if (tree.empty()) GTEST_SKIP() << kNoTree;
  auto loader = MakeLoader(tree);
  ASSERT_TRUE(loader);
  EXPECT_TRUE(loader->enabled());
  EXPECT_EQ(loader->modules_dir(), tree);

  auto ahci = loader->Resolve(kAhciAlias);
  ASSERT_TRUE(ahci) << ahci.error().Message();
  EXPECT_EQ(*ahci, std::vector<std::string>{"ahci"});
  auto virtio = loader->Resolve(kVirtioBlkAlias);
  ASSERT_TRUE(virtio) << virtio.error().Message();
  EXPECT_EQ(*virtio, std::vector<std::string>{"virtio_blk"});
  // Module names and their aliases resolve too (`kmod load dm-mod`), '-' or '_' alike.
  auto dm = loader->Resolve("dm-mod");
  ASSERT_TRUE(dm) << dm.error().Message();
  EXPECT_EQ(*dm, std::vector<std::string>{"dm_mod"});
  auto control = loader->Resolve("devname:mapper/control");
  ASSERT_TRUE(control) << control.error().Message();
  EXPECT_EQ(*control, std::vector<std::string>{"dm_mod"});
}

TEST(ModuleLoaderTest, AliasNobodyClaimsResolvesToNothing) {
  std::string tree = ModulesTree();
  if (tree.empty()) GTEST_SKIP() << kNoTree;
  auto loader = MakeLoader(tree);
  ASSERT_TRUE(loader);
  auto none = loader->Resolve(kNobodysAlias);
  ASSERT_TRUE(none) << none.error().Message();
  EXPECT_TRUE(none->empty());
}

TEST(ModuleLoaderTest, EachAliasIsLoadedOnceOffTheCallersThread) {
  std::string tree = ModulesTree();
  if (tree.empty()) GTEST_SKIP() << kNoTree;
  auto loader = MakeLoader(tree);
  ASSERT_TRUE(loader);
  std::atomic<int> idle_calls{0};
  loader->SetIdleCallback([&] { ++idle_calls; });
  EXPECT_TRUE(loader->idle());

  loader->Request(kAhciAlias, "/devices/pci0000:00/0000:00:1f.2");
  loader->Request(kVirtioBlkAlias, "/devices/pci0000:00/0000:00:04.0/virtio1");
  loader->Request(kAhciAlias, "/devices/pci0000:00/0000:00:1f.2");
  loader->Request(kNobodysAlias);
  ASSERT_TRUE(loader->WaitIdle(seconds(30)));
  EXPECT_TRUE(loader->idle());
  loader->SetIdleCallback({});  // waits for a callback under way
  EXPECT_GE(idle_calls.load(), 1);

  ModuleLoaderStats stats = loader->stats();
  EXPECT_EQ(stats.requested, 4u);
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_EQ(stats.unresolved, 1u);
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.skipped, 0u);
  // A dry run "inserts" what is not loaded yet: both here, none on a machine that has them.
  EXPECT_LE(stats.inserted, 2u);

  // Handled aliases stay handled: the same request later is dropped at once.
  loader->Request(kVirtioBlkAlias);
  EXPECT_TRUE(loader->idle());
  EXPECT_EQ(loader->stats().duplicates, 2u);
}

TEST(ModuleLoaderTest, ReplacedIdleCallbackIsNoLongerRunning) {
  std::string tree = ModulesTree();
  if (tree.empty()) GTEST_SKIP() << kNoTree;
  auto loader = MakeLoader(tree);
  ASSERT_TRUE(loader);
  std::atomic<bool> running{false};
  std::atomic<int> calls{0};
  loader->SetIdleCallback([&] {
    running = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ++calls;
    running = false;
  });
  loader->Request(kVirtioBlkAlias);
  ASSERT_TRUE(loader->WaitIdle(seconds(30)));
  // The loader went idle with the callback already under way: replacing it waits for it.
  loader->SetIdleCallback({});
  EXPECT_FALSE(running.load());
  EXPECT_EQ(calls.load(), 1);
  loader->Request(kAhciAlias);
  ASSERT_TRUE(loader->WaitIdle(seconds(30)));
  loader.reset();  // joins the thread: nothing can call the old callback any more
  EXPECT_EQ(calls.load(), 1);
}

TEST(ModuleLoaderTest, TreeWithoutIndexesTurnsLoadingOff) {
  testing::TempDir empty_tree("vdev-modules");
  auto loader = MakeLoader(empty_tree.path());
  ASSERT_TRUE(loader);
  EXPECT_FALSE(loader->enabled());
  loader->Request(kVirtioBlkAlias);
  EXPECT_TRUE(loader->idle());
  EXPECT_EQ(loader->stats().skipped, 1u);
}

TEST(ModuleLoaderTest, FakeSysfsNeverInsertsIntoTheRunningKernel) {
  std::string tree = ModulesTree();
  if (tree.empty()) GTEST_SKIP() << kNoTree;
  testing::TempDir fake_sysfs("vdev-sysfs");
  auto loader = MakeLoader(tree, fake_sysfs.path());
  ASSERT_TRUE(loader);
  EXPECT_FALSE(loader->enabled());
  loader->Request(kVirtioBlkAlias, "/devices/virtio1");
  EXPECT_TRUE(loader->idle());
  EXPECT_EQ(loader->stats().skipped, 1u);
  // Resolution still works: only insertion is off.
  auto virtio = loader->Resolve(kVirtioBlkAlias);
  ASSERT_TRUE(virtio) << virtio.error().Message();
  EXPECT_EQ(*virtio, std::vector<std::string>{"virtio_blk"});
}

TEST(ModuleLoaderTest, DeviceNotInTheKernelsSysfsLoadsNothingAndIsNotRemembered) {
  std::string tree = ModulesTree();
  if (tree.empty()) GTEST_SKIP() << kNoTree;
  // The real sysfs, no dry run: only a device that is really there could load anything,
  // and this one is not (nor does any module claim the alias).
  auto loader = MakeLoader(tree, "/sys");
  ASSERT_TRUE(loader);
  if (!loader->enabled()) GTEST_SKIP() << "/sys is not a sysfs here";
  constexpr char kNoDevice[] = "/devices/vdev-test-no-such-device";
  loader->Request(kNobodysAlias, kNoDevice);
  ASSERT_TRUE(loader->WaitIdle(seconds(30)));
  loader->Request(kNobodysAlias, kNoDevice);
  ASSERT_TRUE(loader->WaitIdle(seconds(30)));
  ModuleLoaderStats stats = loader->stats();
  EXPECT_EQ(stats.requested, 2u);
  EXPECT_EQ(stats.skipped, 2u);
  EXPECT_EQ(stats.duplicates, 0u);
  EXPECT_EQ(stats.inserted, 0u);
}

class KmodBuiltinTest : public ::testing::Test {
 protected:
  void TearDown() override { SetKmodBuiltinLoader(nullptr); }

  Status Run(std::vector<std::string> args, std::string_view modalias) {
    Uevent event;
    event.Set("ACTION", "add");
    event.Set("DEVPATH", "/devices/pci0000:00/0000:00:04.0/virtio1");
    event.Set("SUBSYSTEM", "virtio");
    if (!modalias.empty()) event.Set("MODALIAS", modalias);
    EventState state(Device::FromEvent(sysfs_.get(), event), event);
    BuiltinCall call{state, std::move(args)};
    return RunKmodBuiltin(call);
  }

  testing::TempDir sysfs_dir_{"vdev-sysfs"};
  UniqueFd sysfs_{open(sysfs_dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
};

TEST_F(KmodBuiltinTest, LoadQueuesTheModaliasOrTheNamedModules) {
  std::string tree = ModulesTree();
  if (tree.empty()) GTEST_SKIP() << kNoTree;
  auto loader = MakeLoader(tree);
  ASSERT_TRUE(loader);
  SetKmodBuiltinLoader(loader.get());
  EXPECT_EQ(KmodBuiltinLoader(), loader.get());

  ASSERT_TRUE(Run({"load", kVirtioBlkAlias}, kVirtioBlkAlias));
  ASSERT_TRUE(Run({"load"}, kVirtioBlkAlias));  // the event's MODALIAS: a duplicate
  ASSERT_TRUE(Run({"load", "ms_block", "mspro_block"}, ""));
  ASSERT_TRUE(Run({"load"}, ""));  // no MODALIAS: nothing to do
  ASSERT_TRUE(loader->WaitIdle(seconds(30)));
  ModuleLoaderStats stats = loader->stats();
  EXPECT_EQ(stats.requested, 4u);
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST_F(KmodBuiltinTest, RefusesOtherVerbs) {
  auto wrong = Run({"unload", "loop"}, "");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, EINVAL);
  EXPECT_FALSE(Run({}, ""));
}

}  // namespace
}  // namespace vdev
