// Daemon: vdevd's main loop. It feeds events from netlink, the coldplug walk or a replay
// file into the EventQueue, answers the control socket, handles signals, reconciles after
// a netlink overflow and decides when --once and --replay are done.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "block_watch.h"
#include "client_fanout.h"
#include "common/database.h"
#include "common/roots.h"
#include "common/uevent.h"
#include "control_server.h"
#include "daemon_options.h"
#include "device_filter.h"
#include "device_table.h"
#include "event_loop.h"
#include "event_queue.h"
#include "module_loader.h"
#include "netlink_source.h"

namespace vdev {

// True when a systemd-udevd answers on RUN/udev/control: two device managers must never
// share a /dev, so vdevd refuses to start (checked again in Run, and by main before a
// --boot touches the dev root or --daemon forks).
bool UdevdIsRunning(const std::string& run_path);

class Daemon : public ControlHandler {
 public:
  using Processor = EventQueue::Processor;
  using Reloader = std::function<Status()>;

  // processor runs each event (on a worker thread); reload re-reads the rules (SIGHUP,
  // "vdevadm control --reload") and keeps the old ones when it fails. modules (may be null)
  // is the loader the kmod builtin queues drivers on: a settle and the readiness after
  // coldplug wait until it is idle. It must outlive the Daemon.
  Daemon(const DaemonOptions& options, const Roots& roots, Database& database,
         Processor processor, Reloader reload, ModuleLoader* modules = nullptr);
  ~Daemon() override;

  // Runs until SIGTERM/SIGINT, "vdevadm control --exit", or (--once, --replay) until the
  // work is done. Returns the process exit status.
  int Run();

  // Runs once on the loop thread when the start-up coldplug has settled (after --ready-fd
  // is written): the pid file, --daemon's parent and NOTIFY_SOCKET are told there.
  void SetReadyCallback(std::function<void()> ready) { ready_callback_ = std::move(ready); }
  // Why Run() failed to start, for --daemon's waiting parent ("" when it did not).
  const std::string& start_error() const { return start_error_; }

  // ControlHandler
  bool IsSettled() override;
  void RequestExit() override { exit_requested_ = true; }
  Status Reload() override { return reload_(); }
  // "vdevadm control --stop-exec-queue" / "--start-exec-queue": events keep being queued
  // (and a settle keeps waiting) but none starts until the queue is started again.
  Status StopExecQueue(bool stop) override;

 private:
  [[nodiscard]] Status Start();
  [[nodiscard]] Status AddSignals();
  void OnNetlinkReadable();
  void OnProcessed(const ProcessOutcome& done);
  // The one way into the queue: drops what the --allow/--deny filter does not admit.
  void Enqueue(Uevent&& event);
  void Coldplug();
  void Reconcile();
  void FeedReplay();
  void ReprobePartitions(const std::string& disk_devpath);
  void MaybeReady();
  void UpdateQueueFile(bool busy);
  void PruneStaleRecords();
  void StartFanout();
  void ArmFanoutCheck();
  bool Done() const;

  const DaemonOptions& options_;
  const Roots& roots_;
  Database& database_;
  Processor processor_;
  Reloader reload_;
  ModuleLoader* modules_;

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<EventQueue> queue_;
  std::unique_ptr<NetlinkSource> netlink_;
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<BlockWatch> watch_;
  std::unique_ptr<ClientFanout> fanout_;  // DEV/uevents; none with --dry-run or when unsafe
  bool fanout_check_armed_ = false;
  UniqueFd signals_;
  DeviceTable table_;
  DeviceFilter filter_;
  size_t filtered_ = 0;  // events the filter dropped
  std::function<void()> ready_callback_;
  std::string start_error_;

  FILE* replay_ = nullptr;
  std::optional<ReplayReader> replay_reader_;  // one for the whole file: its line count
  bool replay_done_ = true;
  size_t replay_errors_ = 0;
  static constexpr const char* kQueueFile = "udev/queue";  // below the run dir
  bool queue_file_ = false;   // RUN/udev/queue exists (events are pending)
  bool coldplugged_ = false;  // the start-up coldplug has been fully processed
  bool exit_requested_ = false;
  size_t processed_ = 0;
};

}  // namespace vdev
