// net_id against Debian's udev on this machine's real interfaces: for every entry of the
// sysfs root's class/net, the ID_NET_* properties of NetIdProperties must be exactly those
// `udevadm test-builtin net_id` prints (udevadm runs the builtin in-process, no udevd).
//
// udevadm: $VDEV_UDEVADM, else the udev package that test/fixtures/make-hwdb.sh unpacked into
// BUILD/hwdb-root (test/run-tests.sh runs it; udev is never installed), else /bin/udevadm or
// /usr/bin/udevadm. Without one the test skips.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "builtin_net_id.h"
#include "common/roots.h"
#include "net_naming_scheme.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;
using Names = std::map<std::string, std::string>;

std::string FindUdevadm() {
  if (const char* env = getenv("VDEV_UDEVADM"); env != nullptr && *env != '\0') return env;
  for (const char* path : {VDEV_BINARY_DIR "/hwdb-root/bin/udevadm", "/bin/udevadm",
                           "/usr/bin/udevadm"})
    if (access(path, X_OK) == 0) return path;
  return {};
}

// The ID_NET_* lines of `udevadm test-builtin net_id SYSPATH` (its log goes to stderr).
std::optional<Names> UdevNames(const std::string& udevadm, const std::string& syspath) {
  std::string command = "'" + udevadm + "' test-builtin net_id '" + syspath + "' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return std::nullopt;
  Names names;
  char line[4096];
  while (fgets(line, sizeof(line), pipe.get()) != nullptr) {
    std::string text(line);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    size_t equals = text.find('=');
    if (!text.starts_with("ID_NET_") || equals == std::string::npos) continue;
    names[text.substr(0, equals)] = text.substr(equals + 1);
  }
  return names;
}

TEST(NetIdCompareTest, EveryInterfaceAsUdevNamesIt) {
  const std::string udevadm = FindUdevadm();
  if (udevadm.empty()) GTEST_SKIP() << "no udevadm (set VDEV_UDEVADM to an extracted udev's)";
  RootPaths paths = RootPaths::FromEnvironment();
  auto roots = Roots::Open(paths, /*create_state=*/false);
  ASSERT_TRUE(roots) << roots.error().Message();
  int compared = 0;
  for (const auto& entry : fs::directory_iterator(paths.sysfs + "/class/net")) {
    const std::string name = entry.path().filename();
    const std::string devpath =
        "/" + fs::relative(fs::canonical(entry.path()), fs::canonical(paths.sysfs)).string();
    auto device = Device::Open(roots->sysfs(), devpath);
    ASSERT_TRUE(device) << devpath;
    auto ours = NetIdProperties(*device, roots->sysfs(), ActiveNamingScheme());
    ASSERT_TRUE(ours) << name << ": " << ours.error().Message();
    Names vdev_names(ours->properties.begin(), ours->properties.end());
    auto udev_names = UdevNames(udevadm, paths.sysfs + "/class/net/" + name);
    ASSERT_TRUE(udev_names) << "could not run " << udevadm;
    EXPECT_EQ(vdev_names, *udev_names) << name << " (" << devpath << ")";
    std::string printed;
    for (const auto& [key, value] : vdev_names) printed += " " + key + "=" + value;
    printf("net_id %s:%s\n", name.c_str(), printed.c_str());
    ++compared;
  }
  EXPECT_GT(compared, 0) << "no interface in " << paths.sysfs << "/class/net";
}

}  // namespace
}  // namespace vdev
