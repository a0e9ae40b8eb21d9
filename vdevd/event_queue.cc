#include "event_queue.h"

#include <algorithm>
#include <unordered_set>

#include "common/log.h"

namespace vdev {
namespace {

// A candidate scans the queue from the front; past this many blocked events it waits for
// the next pass, so one long chain of dependent events cannot make scheduling quadratic.
constexpr size_t kMaxScan = 4096;

// A busy device (a partitioning tool holds its lock) is retried after 5, 10, 20 ... ms, at
// most a second apart, for about half a minute; the last attempt probes regardless.
constexpr unsigned kMaxAttempts = 40;

std::chrono::milliseconds RetryDelay(unsigned attempts) {
  return std::chrono::milliseconds(std::min<unsigned>(5u << std::min(attempts, 8u), 1000u));
}

bool IsAncestor(std::string_view ancestor, std::string_view path) {
  return path.size() > ancestor.size() && path.starts_with(ancestor) &&
         path[ancestor.size()] == '/';
}

uint64_t DevnumKey(dev_t devnum, bool block) { return (static_cast<uint64_t>(devnum) << 1) | block; }

// Everything that earlier events hold, indexed so one candidate is checked in O(depth).
class BusySet {
 public:
  void Add(const EventKeys& keys) {
    AddPath(keys.devpath);
    if (!keys.devpath_old.empty()) AddPath(keys.devpath_old);
    if (keys.devnum) devnums_.insert(DevnumKey(*keys.devnum, keys.block));
    if (keys.ifindex) ifindexes_.insert(*keys.ifindex);
  }

  bool Conflicts(const EventKeys& keys) const {
    if (PathConflicts(keys.devpath)) return true;
    if (!keys.devpath_old.empty() && PathConflicts(keys.devpath_old)) return true;
    if (keys.devnum && devnums_.count(DevnumKey(*keys.devnum, keys.block))) return true;
    if (keys.ifindex && ifindexes_.count(*keys.ifindex)) return true;
    return false;
  }

 private:
  void AddPath(const std::string& path) {
    paths_.insert(path);
    for (size_t slash = path.rfind('/'); slash > 0 && slash != std::string::npos;
         slash = path.rfind('/', slash - 1)) {
      if (!ancestors_.insert(path.substr(0, slash)).second) break;  // the rest is there too
    }
  }

  bool PathConflicts(const std::string& path) const {
    if (paths_.count(path) || ancestors_.count(path)) return true;  // same, or a busy child
    for (size_t slash = path.rfind('/'); slash > 0 && slash != std::string::npos;
         slash = path.rfind('/', slash - 1)) {
      if (paths_.count(path.substr(0, slash))) return true;  // a busy parent
    }
    return false;
  }

  std::unordered_set<std::string> paths_;
  std::unordered_set<std::string> ancestors_;
  std::unordered_set<uint64_t> devnums_;
  std::unordered_set<int> ifindexes_;
};

}  // namespace

EventKeys EventKeys::Of(const Uevent& event) {
  EventKeys keys;
  keys.devpath = event.devpath();
  keys.devpath_old = event.GetOr("DEVPATH_OLD");
  keys.devnum = event.devnum();
  keys.block = event.subsystem() == "block";
  keys.ifindex = event.ifindex();
  return keys;
}

bool EventsConflict(const EventKeys& earlier, const EventKeys& later) {
  auto paths_conflict = [](std::string_view a, std::string_view b) {
    return !a.empty() && !b.empty() && (a == b || IsAncestor(a, b) || IsAncestor(b, a));
  };
  if (paths_conflict(earlier.devpath, later.devpath)) return true;
  if (paths_conflict(earlier.devpath_old, later.devpath)) return true;
  if (paths_conflict(earlier.devpath, later.devpath_old)) return true;
  if (earlier.devnum && later.devnum && *earlier.devnum == *later.devnum &&
      earlier.block == later.block)
    return true;
  if (earlier.ifindex && later.ifindex && *earlier.ifindex == *later.ifindex) return true;
  return false;
}

EventQueue::EventQueue(EventLoop& loop, size_t workers, Processor processor,
                       Completion completion)
    : loop_(loop),
      workers_(workers == 0 ? 1 : workers),
      processor_(std::move(processor)),
      completion_(std::move(completion)) {
  for (size_t i = 0; i < workers_; ++i) threads_.emplace_back([this] { WorkerMain(); });
}

EventQueue::~EventQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void EventQueue::Push(Uevent event) {
  EventKeys keys = EventKeys::Of(event);
  queued_.push_back(Entry{next_id_++, std::move(event), std::move(keys)});
  Schedule();
}

void EventQueue::Pause(bool paused) {
  paused_ = paused;
  if (!paused_) Schedule();
}

void EventQueue::Schedule() {
  if (paused_) return;
  // Up to eight events per worker are handed over at once, so a worker that finishes finds
  // its next event waiting instead of idling until the loop thread has caught up: with as
  // many workers as CPUs the loop thread often waits for a core (2 per worker: 17 100
  // events/s in pipeline_bench.sh, 8 per worker: 20 300, on 2 busy cores).
  const size_t capacity = 8 * workers_;
  if (queued_.empty() || running_.size() >= capacity) return;
  BusySet busy;
  for (const auto& [id, keys] : running_) busy.Add(keys);
  for (const auto& [id, waiting] : waiting_) busy.Add(waiting.keys);
  size_t scanned = 0;
  std::vector<Job> started;
  for (auto it = queued_.begin();
       it != queued_.end() && running_.size() < capacity && scanned < kMaxScan; ++scanned) {
    bool blocked = busy.Conflicts(it->keys);
    // Later events must wait for this one whether it starts now or stays queued.
    busy.Add(it->keys);
    if (blocked) {
      ++it;
      continue;
    }
    running_.emplace(it->id, std::move(it->keys));
    started.push_back(Job{it->id, std::move(it->event), 0});
    it = queued_.erase(it);
  }
  Dispatch(std::move(started));
}

void EventQueue::Dispatch(std::vector<Job> jobs) {
  if (jobs.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (auto& job : jobs) jobs_.push_back(std::move(job));
  }
  if (jobs.size() == 1) {
    wake_.notify_one();
  } else {
    wake_.notify_all();
  }
}

void EventQueue::Finish(uint64_t id, unsigned attempts, ProcessOutcome outcome) {
  auto running = running_.find(id);
  if (outcome.retry && attempts < kMaxAttempts) {
    // The device stays claimed while it waits: later events for it keep their order, the
    // worker goes on with other devices, and no thread sleeps or spins meanwhile.
    waiting_.emplace(id, Waiting{std::move(outcome.event), std::move(running->second), attempts});
    running_.erase(running);
    loop_.RunAfter(RetryDelay(attempts), [this, id] { Retry(id); });
    Schedule();
    return;
  }
  running_.erase(running);
  Schedule();
  completion_(outcome);
}

void EventQueue::Retry(uint64_t id) {
  auto waiting = waiting_.find(id);
  if (waiting == waiting_.end()) return;
  running_.emplace(id, std::move(waiting->second.keys));
  std::vector<Job> job;
  job.push_back(Job{id, std::move(waiting->second.event), waiting->second.attempts});
  waiting_.erase(waiting);
  Dispatch(std::move(job));
}

void EventQueue::WorkerMain() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;  // jobs not yet picked up are dropped
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    unsigned attempts = job.attempts + 1;
    ProcessOutcome outcome;
    try {
      outcome = processor_(std::move(job.event), attempts >= kMaxAttempts);
    } catch (const std::bad_alloc&) {
      LogError("out of memory while processing an event, ignoring");
    }
    loop_.Post([this, id = job.id, attempts, outcome = std::move(outcome)]() mutable {
      Finish(id, attempts, std::move(outcome));
    });
  }
}

}  // namespace vdev
