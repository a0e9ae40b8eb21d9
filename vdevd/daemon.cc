#include "daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "coldplug.h"
#include "common/device.h"
#include "partition_table.h"
#include "common/log.h"

namespace vdev {
namespace {

// Replay events queued ahead of the workers: enough to keep them busy, little enough that
// a 50 000-event file does not sit in memory at once.
constexpr size_t kReplayWindow = 512;

// How often DEV/uevents clients are checked for life while there are any: a dead client's
// directory holds at most its backlog meanwhile.
constexpr std::chrono::seconds kFanoutCheckInterval(2);

// One worker per CPU: events are short bursts of file-system calls, and more threads than
// cores only add hand-overs (measured with test/bench/pipeline_bench.sh on 2 cores: 2
// workers ~30 000 events/s, 4 workers ~22 000). Programs that block are bounded by
// --event-timeout; at least two workers keep one such program from stopping everything.
size_t DefaultWorkers() {
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp<size_t>(cpus, 2, 16);
}

std::string Describe(const Uevent& event) {
  std::string text = std::string(event.action()) + " " + std::string(event.devpath()) + " (" +
                     std::string(event.subsystem()) + ")";
  if (auto devname = event.Get("DEVNAME")) text += " " + std::string(*devname);
  if (auto links = event.Get("DEVLINKS")) text += " links: " + std::string(*links);
  return text;
}

}  // namespace

// systemd-udevd answers on RUN/udev/control.
bool UdevdIsRunning(const std::string& run_path) {
  std::string path = run_path + "/udev/control";
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) return false;
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  return connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

// Every event enters the queue through here. A device the filter does not admit is
// dropped before the table and the queue: it gets no node, link, record, fan-out or
// builtin, and a reconcile never counts it as known (its synthesized events are dropped
// here again). The table follows the events as they are queued, not as they finish, for
// two reasons. A reconcile after an overflow must count an event still queued or running
// as known: a device whose add is in flight and whose remove was lost would otherwise
// keep its node and record. And the table must keep the kernel's DEVNAME: the published
// one is below the dev root, and a remove synthesized from it would name the node by an
// absolute path.
void Daemon::Enqueue(Uevent&& event) {
  if (!filter_.Admits(event)) {
    ++filtered_;
    return;
  }
  table_.Update(event);
  queue_->Push(std::move(event));
}

Daemon::Daemon(const DaemonOptions& options, const Roots& roots, Database& database,
               Processor processor, Reloader reload, ModuleLoader* modules)
    : options_(options),
      roots_(roots),
      database_(database),
      processor_(std::move(processor)),
      reload_(std::move(reload)),
      modules_(modules),
      filter_(options.allow, options.deny) {}

Daemon::~Daemon() {
  // The loader outlives us; its callback posts to our loop.
  if (modules_) modules_->SetIdleCallback({});
  // Workers finish their running events before the loop and sources they post to go away.
  queue_.reset();
  control_.reset();
  if (replay_ && replay_ != stdin) fclose(replay_);
}

Status Daemon::AddSignals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  // Blocked in every thread (main() blocks them before any thread starts); read here.
  if (pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) return Fail(EINVAL, "pthread_sigmask");
  signals_.reset(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals_) return FailErrno("signalfd");
  return loop_->Add(signals_.get(), EPOLLIN, [this](uint32_t) {
    signalfd_siginfo info;
    while (read(signals_.get(), &info, sizeof(info)) == sizeof(info)) {
      if (info.ssi_signo == SIGHUP) {
        LogNotice("SIGHUP: reloading rules");
        if (auto reloaded = reload_(); !reloaded)
          LogError("reload: %s, keeping the rules in force", reloaded.error().Message().c_str());
      } else {
        LogNotice("%s: exiting", strsignal(info.ssi_signo));
        exit_requested_ = true;
      }
    }
  });
}

Status Daemon::Start() {
  auto loop = EventLoop::Create();
  if (!loop) return tl::unexpected(loop.error());
  loop_ = std::move(*loop);
  if (auto added = AddSignals(); !added) return added;
  if (modules_) {
    // The loader going idle can be what a settle, or the readiness, waits for.
    modules_->SetIdleCallback([loop = loop_.get(), this] {
      loop->Post([this] {
        if (control_) control_->NotifyProgress();
      });
    });
  }

  size_t workers = options_.workers ? options_.workers : DefaultWorkers();
  queue_ = std::make_unique<EventQueue>(
      *loop_, workers, processor_, [this](const ProcessOutcome& done) { OnProcessed(done); });

  const bool listen = !options_.once && options_.replay_path.empty();
  if (listen && !options_.dry_run) {
    if (UdevdIsRunning(roots_.paths().run))
      return Fail(EBUSY, "systemd-udevd is running (its control socket answers); refusing to start");
  }
  if (!options_.once) {
    auto control = ControlServer::Start(*loop_, *this, roots_.run(), roots_.paths().run);
    if (!control) return tl::unexpected(control.error());
    control_ = std::move(*control);
  }
  // Before the first event: clients that registered while no daemon ran get all of them.
  if (!options_.dry_run) StartFanout();
  if (listen) {
    // Listen before walking sysfs, so a device that appears during the walk is not missed.
    NetlinkSource::Options netlink_options;
    netlink_options.receive_buffer = options_.receive_buffer;
    auto netlink = NetlinkSource::Open(netlink_options);
    if (!netlink) return tl::unexpected(netlink.error());
    netlink_ = std::move(*netlink);
    // Watching nodes and asking sysfs for change events only makes sense against the real
    // kernel: a replayed or dry run has no one to answer. Only nodes of managed devices
    // are watched (the filter admitted their events).
    if (!options_.dry_run && options_.block_watch) {
      // Notifications that led to no event (the device had gone) still answer a settle.
      auto watch = BlockWatch::Create(*loop_, roots_, [this] {
        if (control_) control_->NotifyProgress();
      });
      if (!watch) return tl::unexpected(watch.error());
      watch_ = std::move(*watch);
    }
    if (auto added = loop_->Add(netlink_->fd(), EPOLLIN, [this](uint32_t) { OnNetlinkReadable(); });
        !added)
      return added;
  }
  if (!options_.replay_path.empty()) {
    replay_ = options_.replay_path == "-" ? stdin : fopen(options_.replay_path.c_str(), "re");
    if (!replay_) return FailErrno("open replay file " + options_.replay_path);
    replay_reader_.emplace(replay_);
    replay_done_ = false;
    FeedReplay();
  } else if (!options_.no_coldplug) {
    Coldplug();
  }
  return Ok();
}

int Daemon::Run() {
  if (!filter_.empty()) LogNotice("managing only: %s", filter_.Describe().c_str());
  if (auto started = Start(); !started) {
    start_error_ = started.error().Message();
    LogError("%s", start_error_.c_str());
    return 1;
  }
  MaybeReady();
  UpdateQueueFile(!queue_->idle());
  while (!exit_requested_ && !Done()) {
    if (auto ran = loop_->RunOnce(-1); !ran) {
      LogError("%s", ran.error().Message().c_str());
      UpdateQueueFile(false);
      return 1;
    }
    MaybeReady();
    UpdateQueueFile(!queue_->idle());
  }
  UpdateQueueFile(false);
  if (replay_errors_ > 0) LogWarning("replay: %zu malformed events skipped", replay_errors_);
  LogInfo("processed %zu events", processed_);
  return 0;
}

// RUN/udev/queue exists while events are pending, as systemd-udevd keeps it: libudev's
// udev_queue (ours, and a stock one a program bundles) reads the daemon's state from it, and
// a program waiting for the queue to empty is woken by its removal.
void Daemon::UpdateQueueFile(bool busy) {
  if (options_.dry_run || busy == queue_file_) return;
  if (busy) {
    UniqueFd file(openat(roots_.run(), kQueueFile, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                         0644));
    if (!file) {
      LogDebug("%s: %s, ignoring", kQueueFile, strerror(errno));
      return;  // tried again at the next turn of the loop
    }
  } else if (unlinkat(roots_.run(), kQueueFile, 0) < 0 && errno != ENOENT) {
    LogDebug("%s: %s, ignoring", kQueueFile, strerror(errno));
    return;
  }
  queue_file_ = busy;
}

bool Daemon::Done() const {
  if (options_.once) return coldplugged_;
  if (!options_.replay_path.empty()) return replay_done_ && queue_->idle();
  return false;
}

bool Daemon::IsSettled() {
  if (!queue_->idle() || !replay_done_) return false;
  // Events that ran have queued their drivers by now; a driver's probe sends its devices'
  // uevents before the loader goes idle, so the netlink check below sees them.
  if (modules_ && !modules_->idle()) return false;
  if (netlink_) {
    // A kernel event is in our socket as soon as the write that caused it returns, so an
    // empty socket and an empty queue mean everything triggered so far is processed.
    // Netlink sockets refuse FIONREAD (ENOTTY); poll tells without consuming anything,
    // a pending overflow (POLLERR) included.
    pollfd pending{netlink_->fd(), POLLIN, 0};
    if (poll(&pending, 1, 0) > 0) return false;
  }
  // A close-after-write seen but not read yet becomes a change event once it is.
  if (watch_ && watch_->HasPending()) return false;
  return true;
}

Status Daemon::StopExecQueue(bool stop) {
  queue_->Pause(stop);
  LogNotice("event queue %s", stop ? "stopped: events are queued, none starts" : "started");
  // Started with nothing queued: a settle that waited only for that is answered now.
  if (!stop && control_) control_->NotifyProgress();
  return Ok();
}

void Daemon::Coldplug() {
  size_t count = 0;
  auto walked = WalkDevices(roots_.sysfs(), [&](Uevent&& event) {
    Enqueue(std::move(event));
    ++count;
  });
  if (!walked) LogError("coldplug: %s, ignoring", walked.error().Message().c_str());
  LogInfo("coldplug: %zu devices, %zu left out by the filter", count, filtered_);
}

void Daemon::Reconcile() {
  std::vector<Uevent> present;
  auto walked = WalkDevices(roots_.sysfs(), [&](Uevent&& event) { present.push_back(std::move(event)); });
  if (!walked) {
    LogError("reconcile: %s, ignoring", walked.error().Message().c_str());
    return;
  }
  std::vector<Uevent> events = table_.Reconcile(present);
  LogWarning("netlink overflow: events were lost; reconciled %zu devices with sysfs, %zu events",
             present.size(), events.size());
  for (auto& event : events) Enqueue(std::move(event));
}

void Daemon::OnNetlinkReadable() {
  auto result =
      netlink_->Drain([this](Uevent&& event) { Enqueue(std::move(event)); });
  // The socket is drained now: what vanished during the walk is already in the queue.
  if (result.overflowed) Reconcile();
  // A drain may queue nothing (rejected datagrams, a reconcile with nothing to do); a
  // settle that waited only for the socket must not wait for some later event.
  if (control_) control_->NotifyProgress();
}

void Daemon::FeedReplay() {
  if (replay_done_) return;
  while (queue_->queued() < kReplayWindow) {
    auto next = replay_reader_->Next();
    if (!next) {
      if (next.error().code != EINVAL) {
        LogError("replay %s: %s", options_.replay_path.c_str(), next.error().Message().c_str());
        replay_done_ = true;
        return;
      }
      // A malformed event is reported and skipped; the rest of the file still counts.
      ++replay_errors_;
      LogWarning("replay %s: %s, skipping it", options_.replay_path.c_str(),
                 next.error().context.c_str());
      continue;
    }
    if (!*next) {
      replay_done_ = true;
      return;
    }
    Enqueue(std::move(**next));
  }
}

void Daemon::OnProcessed(const ProcessOutcome& done) {
  const Uevent& processed = done.event;
  ++processed_;
  if (watch_) watch_->Update(processed, done.watch);
  if (netlink_ && processed.action() == "change" && processed.subsystem() == "block" &&
      processed.devtype() == "disk")
    ReprobePartitions(std::string(processed.devpath()));
  if (LogEnabled(LogLevel::kInfo)) LogInfo("%s", Describe(processed).c_str());
  if (fanout_) {
    fanout_->Publish(processed);
    ArmFanoutCheck();
  }
  if (control_) control_->Publish(processed);
  FeedReplay();
  if (control_) control_->NotifyProgress();
}

void Daemon::ReprobePartitions(const std::string& disk_devpath) {
  // partx takes no lock: a probe can make `partx -d` fail with EBUSY, and the partition it
  // left behind then shows whatever the disk's next medium holds at that offset. So when a
  // disk changes, its remaining partitions are probed again (queued after the disk's event,
  // as its children).
  auto partitions = PartitionDevpaths(roots_.sysfs(), disk_devpath);
  if (!partitions) return;
  for (const auto& devpath : *partitions) {
    auto device = Device::Open(roots_.sysfs(), devpath);
    // Gone meanwhile (its remove event is on its way), or half gone: no subsystem link.
    if (!device || device->subsystem() != "block") continue;
    Uevent event = device->properties();
    event.Set("ACTION", "change");
    Enqueue(std::move(event));
  }
}

void Daemon::StartFanout() {
  ClientFanoutOptions fanout_options;
  fanout_options.backlog = options_.uevent_backlog;
  fanout_options.clients_per_uid = options_.uevent_clients_per_uid;
  auto fanout = ClientFanout::Open(roots_.dev(), fanout_options);
  if (!fanout) {
    // Nodes and links matter more than the clients: keep running without them.
    LogError("%s; running without the client fan-out", fanout.error().Message().c_str());
    return;
  }
  fanout_ = std::move(*fanout);
  if (fanout_->fd() >= 0) {
    auto added = loop_->Add(fanout_->fd(), EPOLLIN, [this](uint32_t) {
      fanout_->HandleNotifications();
      ArmFanoutCheck();
    });
    if (!added) LogError("uevents: %s, ignoring", added.error().Message().c_str());
  }
  ArmFanoutCheck();
}

void Daemon::ArmFanoutCheck() {
  // A timer only while there are clients: an idle daemon without them never wakes up.
  if (fanout_check_armed_ || !fanout_->NeedsChecks()) return;
  fanout_check_armed_ = true;
  loop_->RunAfter(kFanoutCheckInterval, [this] {
    fanout_check_armed_ = false;
    fanout_->CheckClients();
    ArmFanoutCheck();
  });
}

void Daemon::MaybeReady() {
  // Ready once the coldplug has settled: the drivers it asked for loaded and the devices
  // they brought processed, so /dev is complete when an init script goes on.
  if (coldplugged_ || !IsSettled()) return;
  coldplugged_ = true;
  if (!options_.no_coldplug && options_.replay_path.empty()) PruneStaleRecords();
  if (options_.ready_fd >= 0) {
    // s6-style readiness: one newline, then the fd is closed.
    (void)!write(options_.ready_fd, "\n", 1);
    close(options_.ready_fd);
  }
  LogNotice("ready: %zu devices known", table_.size());
  if (ready_callback_) ready_callback_();
}

void Daemon::PruneStaleRecords() {
  // Records of devices that went away while no vdevd was running.
  auto ids = database_.ListIds();
  if (!ids) return;
  auto known = table_.Ids();
  for (const auto& id : *ids) {
    if (known.count(id)) continue;
    auto record = database_.Read(id);
    if (auto removed = database_.Remove(id, record ? &*record : nullptr); !removed)
      LogWarning("%s: %s, ignoring", id.c_str(), removed.error().Message().c_str());
  }
}

}  // namespace vdev
