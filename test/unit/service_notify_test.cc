#include "service_notify.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "common/unique_fd.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

// Binds a datagram socket at name ('@' = abstract), as a supervisor does.
UniqueFd Bind(const std::string& name) {
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fd;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, name.data(), name.size());
  if (name[0] == '@') address.sun_path[0] = '\0';
  socklen_t length = offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '@' ? 0 : 1);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) < 0) return UniqueFd();
  return fd;
}

std::string Receive(int fd) {
  char buffer[512];
  ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

TEST(ServiceNotifier, ReadyAndStoppingToAPathSocket) {
  testing::TempDir dir;
  std::string path = dir.Sub("notify");
  UniqueFd socket = Bind(path);
  ASSERT_TRUE(socket) << strerror(errno);
  ServiceNotifier notifier(path);
  ASSERT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.Ready());
  EXPECT_EQ(Receive(socket.get()), "READY=1\nMAINPID=" + std::to_string(getpid()));
  ASSERT_TRUE(notifier.Stopping());
  EXPECT_EQ(Receive(socket.get()), "STOPPING=1");
}

TEST(ServiceNotifier, AbstractSocket) {
  std::string name = "@vdev-notify-test-" + std::to_string(getpid());
  UniqueFd socket = Bind(name);
  ASSERT_TRUE(socket) << strerror(errno);
  ServiceNotifier notifier(name);
  ASSERT_TRUE(notifier.Ready());
  EXPECT_EQ(Receive(socket.get()), "READY=1\nMAINPID=" + std::to_string(getpid()));
}

TEST(ServiceNotifier, FromEnvironmentTakesTheVariable) {
  testing::TempDir dir;
  std::string path = dir.Sub("notify");
  UniqueFd socket = Bind(path);
  ASSERT_TRUE(socket);
  setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ServiceNotifier notifier = ServiceNotifier::FromEnvironment();
  EXPECT_EQ(getenv("NOTIFY_SOCKET"), nullptr);  // programs the rules run do not inherit it
  ASSERT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.Stopping());
  EXPECT_EQ(Receive(socket.get()), "STOPPING=1");

  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_FALSE(ServiceNotifier::FromEnvironment().enabled());
  unsetenv("NOTIFY_SOCKET");
  ServiceNotifier none = ServiceNotifier::FromEnvironment();
  EXPECT_FALSE(none.enabled());
  EXPECT_TRUE(none.Ready());  // nothing to tell, nothing failed
}

TEST(ServiceNotifier, MissingSocketIsAnError) {
  testing::TempDir dir;
  ServiceNotifier notifier(dir.Sub("nobody-listens"));
  auto sent = notifier.Ready();
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ENOENT);
}

}  // namespace
}  // namespace vdev
