#include "daemon_options.h"

#include <fstream>

#include <gtest/gtest.h>

#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

Result<DaemonOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "vdevd");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return ParseDaemonOptions(static_cast<int>(argv.size()), argv.data());
}

TEST(DaemonOptions, CommandLineContract) {
  testing::TempDir dir;
  auto options = Parse({"--config", dir.Sub("none.conf"), "--dev-root", "/tmp/d", "--sysfs-root=/tmp/s",
                        "--run-dir", "/tmp/r", "--rules-dir", "a", "--rules-dir", "b", "--devfs",
                        "devtmpfs", "--no-coldplug", "--ready-fd", "5", "--log-level", "debug",
                        "--receive-buffer", "16M", "--workers", "3"});
  // A --config that names a missing file is an error...
  ASSERT_FALSE(options);
  EXPECT_NE(options.error().context.find("none.conf"), std::string::npos);

  std::ofstream(dir.Sub("empty.conf")) << "";
  options = Parse({"--config", dir.Sub("empty.conf"), "--dev-root", "/tmp/d", "--sysfs-root=/tmp/s",
                   "--run-dir", "/tmp/r", "--rules-dir", "a", "--rules-dir", "b", "--devfs",
                   "devtmpfs", "--no-coldplug", "--ready-fd", "5", "--log-level", "debug",
                   "--receive-buffer", "16M", "--workers", "3"});
  ASSERT_TRUE(options) << options.error().Message();
  EXPECT_EQ(options->roots.dev, "/tmp/d");
  EXPECT_EQ(options->roots.sysfs, "/tmp/s");
  EXPECT_EQ(options->roots.run, "/tmp/r");
  EXPECT_EQ(options->rules_dirs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(options->devfs, DevfsMode::kDevtmpfs);
  EXPECT_TRUE(options->no_coldplug);
  EXPECT_EQ(options->ready_fd, 5);
  EXPECT_EQ(options->log_level, LogLevel::kDebug);
  EXPECT_EQ(options->receive_buffer, 16u << 20);
  EXPECT_EQ(options->workers, 3u);
}

TEST(DaemonOptions, ConfigFileAndCommandLineWins) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("vdevd.conf")) << "[vdevd]\n"
                                          "dev_root = /conf/dev\n"
                                          "run_dir = /conf/run\n"
                                          "rules_dir = /conf/rules\n"
                                          "log_level = info\n";
  auto options = Parse({"--config", dir.Sub("vdevd.conf"), "--run-dir", "/cli/run"});
  ASSERT_TRUE(options) << options.error().Message();
  EXPECT_EQ(options->roots.dev, "/conf/dev");
  EXPECT_EQ(options->roots.run, "/cli/run");
  EXPECT_EQ(options->rules_dirs, std::vector<std::string>{"/conf/rules"});
  EXPECT_EQ(options->log_level, LogLevel::kInfo);

  options = Parse({"--config", dir.Sub("vdevd.conf"), "--rules-dir", "/cli/rules"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->rules_dirs, std::vector<std::string>{"/cli/rules"});
}

TEST(DaemonOptions, ErrorsNameTheProblem) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("bad.conf")) << "[vdevd]\n\ndev_root = /x\nbogus = 1\n";
  auto options = Parse({"--config", dir.Sub("bad.conf")});
  ASSERT_FALSE(options);
  EXPECT_NE(options.error().context.find("bad.conf:4: unknown setting 'bogus'"), std::string::npos)
      << options.error().context;

  std::ofstream(dir.Sub("empty.conf")) << "";
  std::string config = dir.Sub("empty.conf");
  EXPECT_FALSE(Parse({"--config", config, "--devfs", "ramfs"}));
  EXPECT_FALSE(Parse({"--config", config, "--frobnicate"}));
  EXPECT_FALSE(Parse({"--config", config, "--dev-root"}));
  EXPECT_FALSE(Parse({"--config", config, "--ready-fd", "x"}));
  EXPECT_FALSE(Parse({"--config", config, "--once", "--replay", "f"}));
  EXPECT_FALSE(Parse({"--config", config, "stray"}));
  // --once is a command-line-only option.
  std::ofstream(dir.Sub("once.conf")) << "[vdevd]\nonce = yes\n";
  EXPECT_FALSE(Parse({"--config", dir.Sub("once.conf")}));
}

}  // namespace
}  // namespace vdev
