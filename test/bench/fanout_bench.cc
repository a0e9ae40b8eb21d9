// fanout-bench: the client fan-out's throughput and latency. K client processes (UeventClient,
// each as a user of its own when run as root: inotify instances are counted per user)
// register below DIR/uevents and read everything; the events come either from a
// ClientFanout in this process (then every event's publish time is known and the latency
// from Publish() to the client holding the parsed event is measured), or from a vdevd this
// program starts after the clients registered (then only delivery throughput is measured).
//
//   fanout-bench --dev DIR --clients K --events E [--replay FILE] [--rate R] [--backlog N]
//                [--coalesce-ms M]
//   fanout-bench --dev DIR --clients K --events E [--coalesce-ms M] --daemon -- VDEVD-COMMAND...
//
// --replay: publish these events (cycled; default: a synthetic block-device event);
// --rate: events per second (default 0: as fast as possible); --coalesce-ms: a client that
// is woken waits this long before reading, so one wake-up takes many events (default 0: it
// reads at once, as a libudev program does). Prints one line of figures.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "client_fanout.h"
#include "common/fs_util.h"
#include "common/log.h"
#include "common/numbers.h"
#include "common/uevent.h"
#include "common/uevent_client.h"

extern "C" char** environ;

namespace vdev {
namespace {

constexpr uid_t kFirstUid = 4300000;
constexpr uint32_t kNotReceived = UINT32_MAX;

uint64_t NowNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

[[noreturn]] void Die(const std::string& message) {
  fprintf(stderr, "fanout-bench: %s\n", message.c_str());
  exit(1);
}

struct Options {
  std::string dev;
  size_t clients = 1;
  size_t events = 10000;
  std::string replay;
  double rate = 0;
  size_t backlog = 0;  // 0: as many as events
  size_t coalesce_ms = 0;
  bool daemon = false;
  std::vector<std::string> command;
};

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    auto count = [&]() -> size_t {
      auto parsed = ParseNumber<size_t>(value());
      if (!parsed || !*parsed) Die(arg + " needs a positive number");
      return *parsed;
    };
    if (arg == "--dev")
      options.dev = value();
    else if (arg == "--clients")
      options.clients = count();
    else if (arg == "--events")
      options.events = count();
    else if (arg == "--replay")
      options.replay = value();
    else if (arg == "--rate")
      options.rate = static_cast<double>(count());
    else if (arg == "--backlog")
      options.backlog = count();
    else if (arg == "--coalesce-ms")
      options.coalesce_ms = count();
    else if (arg == "--daemon")
      options.daemon = true;
    else if (arg == "--") {
      options.command.assign(argv + i + 1, argv + argc);
      break;
    } else {
      Die("unknown argument " + arg);
    }
  }
  if (options.dev.empty()) Die("--dev is required");
  if (options.daemon && options.command.empty()) Die("--daemon needs a command after --");
  return options;
}

// Shared with the client processes: publish times, and each client's latencies.
struct Shared {
  std::atomic<uint64_t>* published;  // [events] ns, CLOCK_MONOTONIC
  uint32_t* latency_us;              // [clients][events]
};

struct ChildReport {
  size_t count = 0;
  size_t overflows = 0;
  uint64_t last_ns = 0;
};

// The client process: registers, says so, waits for the start, reads `events` events.
[[noreturn]] void RunClient(const Options& options, size_t index, int dev_fd, int report_fd,
                            int go_fd, const Shared& shared) {
  if (geteuid() == 0) {
    uid_t uid = kFirstUid + static_cast<uid_t>(index);
    if (setgroups(0, nullptr) < 0 || setgid(uid) < 0 || setuid(uid) < 0) _exit(2);
    prctl(PR_SET_DUMPABLE, 1);
  }
  auto client = UeventClient::Register(dev_fd);
  if (!client) {
    fprintf(stderr, "fanout-bench: client %zu: %s\n", index, client.error().Message().c_str());
    _exit(3);
  }
  if (write(report_fd, "R", 1) != 1) _exit(4);
  char go;
  if (read(go_fd, &go, 1) < 0) _exit(5);  // EOF when the parent starts

  ChildReport report;
  uint64_t first_sequence = 0;
  uint64_t idle_deadline = NowNs() + 20'000'000'000ull;
  uint32_t* latencies = shared.latency_us + index * options.events;
  while (report.count < options.events && NowNs() < idle_deadline) {
    auto received = client->Receive();
    if (!received) break;
    if (received->kind == UeventClient::Received::Kind::kNothing) {
      pollfd readable{client->fd(), POLLIN, 0};
      if (poll(&readable, 1, 100) == 1 && options.coalesce_ms) usleep(options.coalesce_ms * 1000);
      continue;
    }
    uint64_t now = NowNs();
    idle_deadline = now + 20'000'000'000ull;
    if (received->kind == UeventClient::Received::Kind::kOverflow) {
      ++report.overflows;
      continue;
    }
    if (!first_sequence) first_sequence = received->sequence;
    ++report.count;
    report.last_ns = now;
    if (!options.daemon) {
      // In-process publishing numbers the events from 1.
      uint64_t event = received->sequence - 1;
      if (event < options.events) {
        uint64_t published = shared.published[event].load(std::memory_order_acquire);
        if (published && now >= published)
          latencies[event] =
              static_cast<uint32_t>(std::min<uint64_t>((now - published) / 1000, kNotReceived - 1));
      }
    }
  }
  char line[128];
  int n = snprintf(line, sizeof(line), "%zu %zu %llu\n", report.count, report.overflows,
                   static_cast<unsigned long long>(report.last_ns));
  (void)!write(report_fd, line, static_cast<size_t>(n));
  _exit(0);  // the directory is left: the publisher collects it
}

std::vector<Uevent> LoadEvents(const Options& options) {
  std::vector<Uevent> events;
  if (!options.replay.empty()) {
    auto text = ReadFileAt(AT_FDCWD, options.replay, 1u << 30);
    if (!text) Die(text.error().Message());
    auto parsed = ParseReplayText(*text);
    if (!parsed) Die(parsed.error().Message());
    events = std::move(*parsed);
  }
  if (events.empty()) {
    // What a partition's add looks like once vdevd has processed it.
    Uevent event;
    for (auto [key, value] : std::vector<std::pair<const char*, const char*>>{
             {"ACTION", "add"},
             {"DEVPATH",
              "/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1"},
             {"SUBSYSTEM", "block"},
             {"DEVNAME", "/dev/sda1"},
             {"DEVTYPE", "partition"},
             {"DISKSEQ", "9"},
             {"PARTN", "1"},
             {"MAJOR", "8"},
             {"MINOR", "1"},
             {"SEQNUM", "4242"},
             {"ID_FS_UUID", "0b6a7e35-5d1c-4f8e-9c1e-7e8e3f1d2c3b"},
             {"ID_FS_TYPE", "ext4"},
             {"ID_PART_ENTRY_SCHEME", "gpt"},
             {"DEVLINKS",
              "/dev/disk/by-uuid/0b6a7e35-5d1c-4f8e-9c1e-7e8e3f1d2c3b "
              "/dev/disk/by-diskseq/9-part1"},
             {"TAGS", ":systemd:"},
             {"CURRENT_TAGS", ":systemd:"},
             {"USEC_INITIALIZED", "1234567"}}) {
      event.Set(key, value);
    }
    events.push_back(std::move(event));
  }
  return events;
}

double Percentile(std::vector<uint32_t>& values, double fraction) {
  if (values.empty()) return 0;
  size_t at = std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(at), values.end());
  return values[at];
}

int Main(int argc, char** argv) {
  Options options = Parse(argc, argv);
  SetLogLevel(LogLevel::kError);
  if (auto made = MakeDirsAt(AT_FDCWD, options.dev, 0755); !made) Die(made.error().Message());
  UniqueFd dev_fd(open(options.dev.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dev_fd) Die("open " + options.dev + ": " + strerror(errno));

  std::vector<Uevent> events;
  std::unique_ptr<ClientFanout> fanout;
  if (options.daemon) {
    // vdevd makes it too, but the clients register before it starts.
    mkdirat(dev_fd.get(), "uevents", 01777);
    fchmodat(dev_fd.get(), "uevents", 01777, 0);
  } else {
    events = LoadEvents(options);
    ClientFanoutOptions fanout_options;
    fanout_options.backlog =
        options.backlog ? options.backlog : std::max<size_t>(options.events, 16);
    fanout_options.clients_per_uid = options.clients + 1;
    fanout_options.first_sequence = 1;
    auto opened = ClientFanout::Open(dev_fd.get(), fanout_options);
    if (!opened) Die(opened.error().Message());
    fanout = std::move(*opened);
  }

  size_t bytes =
      options.events * sizeof(uint64_t) + options.clients * options.events * sizeof(uint32_t);
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) Die("mmap");
  Shared shared{
      static_cast<std::atomic<uint64_t>*>(memory),
      reinterpret_cast<uint32_t*>(static_cast<char*>(memory) + options.events * sizeof(uint64_t))};
  std::fill(shared.latency_us, shared.latency_us + options.clients * options.events, kNotReceived);

  int go_pipe[2];
  if (pipe2(go_pipe, O_CLOEXEC) < 0) Die("pipe");
  std::vector<pid_t> children;
  std::vector<UniqueFd> reports;
  for (size_t i = 0; i < options.clients; ++i) {
    int report_pipe[2];
    if (pipe2(report_pipe, O_CLOEXEC) < 0) Die("pipe");
    fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) Die("fork");
    if (pid == 0) {
      close(report_pipe[0]);
      close(go_pipe[1]);
      RunClient(options, i, dev_fd.get(), report_pipe[1], go_pipe[0], shared);
    }
    close(report_pipe[1]);
    children.push_back(pid);
    reports.emplace_back(report_pipe[0]);
  }
  close(go_pipe[0]);
  for (auto& report : reports) {
    char ready;
    if (read(report.get(), &ready, 1) != 1) Die("a client did not register");
  }
  if (fanout) fanout->HandleNotifications();

  uint64_t start = NowNs();
  close(go_pipe[1]);  // go
  pid_t daemon = -1;
  uint64_t published_ns = 0;
  if (options.daemon) {
    std::vector<char*> args;
    for (auto& arg : options.command) args.push_back(arg.data());
    args.push_back(nullptr);
    if (posix_spawnp(&daemon, args[0], nullptr, nullptr, args.data(), environ) != 0)
      Die("cannot start " + options.command[0]);
  } else {
    uint64_t interval = options.rate > 0 ? static_cast<uint64_t>(1e9 / options.rate) : 0;
    for (size_t i = 0; i < options.events; ++i) {
      if (interval) {
        uint64_t due = start + i * interval;
        timespec at{static_cast<time_t>(due / 1000000000u), static_cast<long>(due % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr);
      }
      shared.published[i].store(NowNs(), std::memory_order_release);
      fanout->Publish(events[i % events.size()]);
    }
    published_ns = NowNs() - start;
  }

  size_t received = 0, overflows = 0, complete = 0;
  uint64_t last = 0;
  for (auto& report : reports) {
    std::string line;
    char chunk[128];
    ssize_t n;
    while ((n = read(report.get(), chunk, sizeof(chunk))) > 0)
      line.append(chunk, static_cast<size_t>(n));
    unsigned long long count = 0, lost = 0, last_ns = 0;
    if (sscanf(line.c_str(), "%llu %llu %llu", &count, &lost, &last_ns) == 3) {
      received += count;
      overflows += lost;
      if (count == options.events) ++complete;
      last = std::max<uint64_t>(last, last_ns);
    }
  }
  for (pid_t child : children) waitpid(child, nullptr, 0);
  if (daemon > 0) {
    int status = 0;
    waitpid(daemon, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      fprintf(stderr, "fanout-bench: vdevd failed\n");
  }
  if (fanout) fanout->CheckClients();  // collects the clients' directories

  double seconds = last > start ? static_cast<double>(last - start) / 1e9 : 0;
  printf(
      "fanout: %3zu clients x %zu events%s%s: %zu/%zu clients got all; delivered %.0f "
      "events/s (%.0f per client) in %.3f s",
      options.clients, options.events,
      options.daemon ? " through vdevd --replay" : (options.rate ? " paced" : " burst"),
      options.coalesce_ms ? " (batching readers)" : "", complete, options.clients,
      seconds > 0 ? received / seconds : 0, seconds > 0 ? received / seconds / options.clients : 0,
      seconds);
  if (!options.daemon) {
    std::vector<uint32_t> latencies;
    latencies.reserve(options.clients * options.events);
    for (size_t i = 0; i < options.clients * options.events; ++i)
      if (shared.latency_us[i] != kNotReceived) latencies.push_back(shared.latency_us[i]);
    double p50 = Percentile(latencies, 0.50), p99 = Percentile(latencies, 0.99);
    printf("; publish %.0f events/s; latency p50 %.0f us, p99 %.0f us",
           published_ns ? options.events / (published_ns / 1e9) : 0, p50, p99);
    if (options.rate) printf(" at %.0f events/s", options.rate);
  }
  if (overflows) printf("; %zu overflows", overflows);
  printf("\n");
  return complete == options.clients ? 0 : 1;
}

}  // namespace
}  // namespace vdev

int main(int argc, char** argv) { return vdev::Main(argc, argv); }
