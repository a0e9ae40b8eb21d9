// loop-link-latency: the time from `losetup` + `partx -a` returning to the partition's
// by-uuid link existing in a dev root that a running vdevd manages, over N attach/detach
// cycles of one GPT image. Prints p50, p90, p99 and max; asserts nothing.
//
//   loop-link-latency DEV_ROOT IMAGE UUID [--cycles N]
//
// IMAGE holds a GPT whose first partition has a filesystem with UUID (the bench script
// builds it). Each cycle also waits for the link to go after the detach, so every cycle
// starts from an absent link.
#include <sys/stat.h>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// Runs a program (no shell) and returns its exit status and stdout.
int Run(const std::vector<std::string>& args, std::string* output = nullptr) {
  int fds[2];
  if (pipe(fds) < 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string text;
  char buffer[256];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) text.append(buffer, n);
  close(fds[0]);
  if (spawned != 0) return -1;
  int status;
  waitpid(pid, &status, 0);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// Polls every 100 us: the figure being measured is milliseconds.
bool WaitFor(const std::string& path, bool present, std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Exists(path) != present) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: loop-link-latency DEV_ROOT IMAGE UUID [--cycles N]\n");
    return 2;
  }
  std::string dev_root = argv[1], image = argv[2], uuid = argv[3];
  int cycles = 200;
  if (argc >= 6 && std::strcmp(argv[4], "--cycles") == 0) cycles = std::atoi(argv[5]);
  std::string link = dev_root + "/disk/by-uuid/" + uuid;
  std::vector<double> latencies_ms;
  int missed = 0;
  for (int i = 0; i < cycles; ++i) {
    std::string loop;
    if (Run({"losetup", "-f", "--show", image}, &loop) != 0) {
      fprintf(stderr, "losetup failed\n");
      return 1;
    }
    if (Run({"partx", "-a", loop}) != 0) fprintf(stderr, "partx -a %s failed\n", loop.c_str());
    auto returned = Clock::now();
    if (WaitFor(link, true, std::chrono::seconds(10))) {
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - returned).count());
    } else {
      ++missed;
    }
    Run({"partx", "-d", loop});
    Run({"losetup", "-d", loop});
    if (!WaitFor(link, false, std::chrono::seconds(10))) fprintf(stderr, "link stayed after detach\n");
  }
  if (latencies_ms.empty()) {
    printf("loop link latency: no link appeared in %d cycles\n", cycles);
    return 1;
  }
  printf("loop link latency over %zu cycles (losetup + partx -a -> by-uuid of p1): "
         "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, missed %d\n",
         latencies_ms.size(), Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.9),
         Percentile(latencies_ms, 0.99), Percentile(latencies_ms, 1.0), missed);
  return 0;
}
