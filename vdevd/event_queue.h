// EventQueue: the one place where DESIGN.md's ordering rule lives. An event starts only when
// no earlier event still queued or running touches the same devpath, a parent or child
// devpath, the same device number or the same network interface; independent events run in
// parallel on a bounded pool of worker threads.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/uevent.h"
#include "event_loop.h"

namespace vdev {

// What an event can conflict on.
struct EventKeys {
  std::string devpath;
  std::string devpath_old;    // DEVPATH_OLD of a move event
  std::optional<dev_t> devnum;
  bool block = false;
  std::optional<int> ifindex;

  static EventKeys Of(const Uevent& event);
};

// True when later must wait for earlier (systemd's devpath-conflict cases).
bool EventsConflict(const EventKeys& earlier, const EventKeys& later);

// What a worker made of an event.
struct ProcessOutcome {
  Uevent event;        // as published; the unchanged input when retry is set
  bool retry = false;  // the device was busy: nothing was applied, run it again later
  bool watch = false;  // the rules want the node watched for close-after-write
};

class EventQueue {
 public:
  // Runs on a worker thread. last_attempt: a busy device will not be retried again.
  using Processor = std::function<ProcessOutcome(Uevent&&, bool last_attempt)>;
  // Runs on the loop thread once an event is done.
  using Completion = std::function<void(const ProcessOutcome& done)>;

  EventQueue(EventLoop& loop, size_t workers, Processor processor, Completion completion);
  ~EventQueue();  // lets running events finish, drops queued ones
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Loop thread only.
  void Push(Uevent event);
  // While paused, events are queued but none is handed to a worker (udevadm control
  // --stop-exec-queue); running events and the retries of busy devices still finish.
  // Unpausing starts whatever may start.
  void Pause(bool paused);
  bool paused() const { return paused_; }
  bool idle() const { return queued_.empty() && running_.empty() && waiting_.empty(); }
  size_t queued() const { return queued_.size(); }
  size_t running() const { return running_.size(); }

 private:
  struct Entry {
    uint64_t id;
    Uevent event;
    EventKeys keys;
  };
  // A busy device's event between two attempts: its keys stay busy meanwhile.
  struct Waiting {
    Uevent event;
    EventKeys keys;
    unsigned attempts;
  };
  struct Job {
    uint64_t id;
    Uevent event;
    unsigned attempts;  // made before this one
  };
  void Schedule();
  void Dispatch(std::vector<Job> jobs);
  void Finish(uint64_t id, unsigned attempts, ProcessOutcome outcome);
  void Retry(uint64_t id);
  void WorkerMain();

  EventLoop& loop_;
  size_t workers_;
  Processor processor_;
  Completion completion_;

  // Loop-thread state.
  uint64_t next_id_ = 1;
  bool paused_ = false;
  std::list<Entry> queued_;
  std::unordered_map<uint64_t, EventKeys> running_;  // handed to the workers, not finished
  std::unordered_map<uint64_t, Waiting> waiting_;    // busy devices, retried on a timer

  // Hand-over to the workers.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace vdev
