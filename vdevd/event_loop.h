// EventLoop: the main thread's epoll loop. Modules register fds with callbacks; other
// threads hand work back to the loop with Post(), which wakes it through an eventfd.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace vdev {

class EventLoop {
 public:
  using Callback = std::function<void(uint32_t epoll_events)>;

  [[nodiscard]] static Result<std::unique_ptr<EventLoop>> Create();

  // fd stays owned by the caller and must stay open until Remove(fd).
  [[nodiscard]] Status Add(int fd, uint32_t epoll_events, Callback callback);
  [[nodiscard]] Status Modify(int fd, uint32_t epoll_events);
  void Remove(int fd);

  // Thread-safe: runs task on the loop thread during a later RunOnce.
  void Post(std::function<void()> task);

  // Loop thread only: runs task on the loop thread once delay has passed.
  void RunAfter(std::chrono::milliseconds delay, std::function<void()> task);

  // Waits up to timeout_ms (-1: forever) and dispatches what is ready, then posted tasks.
  [[nodiscard]] Status RunOnce(int timeout_ms);

 private:
  EventLoop() = default;
  void RunPosted();
  void RunDueTimers();
  void ArmTimer();

  struct Timer {
    std::chrono::steady_clock::time_point due;
    uint64_t order;  // ties run in the order they were added
    std::function<void()> task;
    bool operator>(const Timer& other) const {
      return due != other.due ? due > other.due : order > other.order;
    }
  };

  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd written by Post()
  UniqueFd timer_;  // timerfd armed for the earliest of timers_
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t timer_order_ = 0;
  // shared_ptr so a callback that removes its own fd does not destroy itself mid-call.
  std::unordered_map<int, std::shared_ptr<Callback>> callbacks_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace vdev
