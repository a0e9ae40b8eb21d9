// The options of issue 6: --daemon, --pid-file, --boot, --allow/--deny, --block-watch.
#include <gtest/gtest.h>

#include <fstream>

#include "daemon_options.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

Result<DaemonOptions> Parse(const testing::TempDir& dir, std::vector<std::string> args) {
  if (!std::ifstream(dir.Sub("vdevd.conf"))) std::ofstream(dir.Sub("vdevd.conf")) << "";
  args.insert(args.begin(), {"vdevd", "--config", dir.Sub("vdevd.conf")});
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return ParseDaemonOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(DaemonOptionsBoot, DaemonLogsToSyslogUnlessATargetIsGiven) {
  testing::TempDir dir;
  auto options = Parse(dir, {"--daemon", "--boot", "--pid-file", "/run/vdev/vdevd.pid"});
  ASSERT_TRUE(options) << options.error().Message();
  EXPECT_TRUE(options->daemon);
  EXPECT_TRUE(options->boot);
  EXPECT_EQ(options->pid_file, "/run/vdev/vdevd.pid");
  EXPECT_EQ(options->log_target, LogTarget::kSyslog);

  options = Parse(dir, {"--daemon", "--log-target", "stderr"});
  ASSERT_TRUE(options) << options.error().Message();
  EXPECT_EQ(options->log_target, LogTarget::kStderr);

  options = Parse(dir, {"--boot", "--ready-fd", "3"});
  ASSERT_TRUE(options) << options.error().Message();
  EXPECT_FALSE(options->daemon);
  EXPECT_EQ(options->ready_fd, 3);
  EXPECT_EQ(options->log_target, LogTarget::kStderr);
  EXPECT_TRUE(options->pid_file.empty());  // main() picks RUN/vdev/vdevd.pid for --daemon
}

TEST(DaemonOptionsBoot, DaemonRejectsOneShotModes) {
  testing::TempDir dir;
  for (auto extra : std::vector<std::vector<std::string>>{
           {"--once"}, {"--replay", "-"}, {"--dry-run"}, {"--check-config"}}) {
    std::vector<std::string> args = {"--daemon"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto options = Parse(dir, args);
    EXPECT_FALSE(options) << extra[0];
    if (!options) {
      EXPECT_NE(options.error().context.find("--daemon"), std::string::npos);
    }
  }
  EXPECT_FALSE(Parse(dir, {"--boot", "--dry-run"}));
  EXPECT_FALSE(Parse(dir, {"--pid-file="}));
}

TEST(DaemonOptionsBoot, AllowAndDenyRepeat) {
  testing::TempDir dir;
  auto options =
      Parse(dir, {"--allow", "block:loop*", "--allow=misc:loop-control", "--deny", "block:loop7"});
  ASSERT_TRUE(options) << options.error().Message();
  ASSERT_EQ(options->allow.size(), 2u);
  EXPECT_EQ(options->allow[0].subsystem, "block");
  EXPECT_EQ(options->allow[0].kernel, "loop*");
  EXPECT_EQ(options->allow[1].subsystem, "misc");
  EXPECT_EQ(options->allow[1].kernel, "loop-control");
  ASSERT_EQ(options->deny.size(), 1u);
  EXPECT_EQ(options->deny[0].kernel, "loop7");

  auto bad = Parse(dir, {"--allow", "block:"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().context.find("--allow"), std::string::npos) << bad.error().context;
}

TEST(DaemonOptionsBoot, ConfigFileListsAndCommandLineReplacement) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("vdevd.conf")) << "[vdevd]\n"
                                          "allow = block:loop*\n"
                                          "allow = misc:loop-control\n"
                                          "deny = block:loop0\n"
                                          "pid_file = /r/vdevd.pid\n"
                                          "block_watch = no\n";
  auto options = Parse(dir, {});
  ASSERT_TRUE(options) << options.error().Message();
  EXPECT_EQ(options->allow.size(), 2u);
  EXPECT_EQ(options->deny.size(), 1u);
  EXPECT_EQ(options->pid_file, "/r/vdevd.pid");
  EXPECT_FALSE(options->block_watch);

  // The command line's allow list replaces the file's; the file's deny list stays.
  options = Parse(dir, {"--allow", "block:nbd*", "--block-watch", "yes"});
  ASSERT_TRUE(options) << options.error().Message();
  ASSERT_EQ(options->allow.size(), 1u);
  EXPECT_EQ(options->allow[0].kernel, "nbd*");
  EXPECT_EQ(options->deny.size(), 1u);
  EXPECT_TRUE(options->block_watch);
}

TEST(DaemonOptionsBoot, BadConfigFilterNamesTheFile) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("vdevd.conf")) << "[vdevd]\nallow = :loop*\n";
  auto options = Parse(dir, {});
  ASSERT_FALSE(options);
  EXPECT_NE(options.error().context.find("vdevd.conf"), std::string::npos);
  EXPECT_NE(options.error().context.find("allow"), std::string::npos);
}

TEST(DaemonOptionsBoot, UsageNamesTheNewOptions) {
  std::string usage = DaemonUsage();
  for (const char* option :
       {"--daemon", "--pid-file", "--boot", "--allow", "--deny", "--block-watch", "--ready-fd"})
    EXPECT_NE(usage.find(option), std::string::npos) << option;
}

}  // namespace
}  // namespace vdev
