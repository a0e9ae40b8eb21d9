#include "event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>

namespace vdev {

Result<std::unique_ptr<EventLoop>> EventLoop::Create() {
  std::unique_ptr<EventLoop> loop(new EventLoop());
  loop->epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!loop->epoll_) return FailErrno("epoll_create1");
  loop->wake_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!loop->wake_) return FailErrno("eventfd");
  EventLoop* raw = loop.get();
  auto added = loop->Add(loop->wake_.get(), EPOLLIN, [raw](uint32_t) {
    uint64_t count;
    while (read(raw->wake_.get(), &count, sizeof(count)) > 0) {
    }
  });
  if (!added) return tl::unexpected(added.error());
  loop->timer_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!loop->timer_) return FailErrno("timerfd_create");
  added = loop->Add(loop->timer_.get(), EPOLLIN, [raw](uint32_t) {
    uint64_t expirations;
    while (read(raw->timer_.get(), &expirations, sizeof(expirations)) > 0) {
    }
    raw->RunDueTimers();
  });
  if (!added) return tl::unexpected(added.error());
  return loop;
}

void EventLoop::RunAfter(std::chrono::milliseconds delay, std::function<void()> task) {
  timers_.push(Timer{std::chrono::steady_clock::now() + delay, timer_order_++, std::move(task)});
  ArmTimer();
}

void EventLoop::ArmTimer() {
  itimerspec spec{};
  if (!timers_.empty()) {
    auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(timers_.top().due -
                                                                      std::chrono::steady_clock::now());
    // Zero would disarm the timer: a timer already due fires after a nanosecond.
    auto nanoseconds = std::max<int64_t>(wait.count(), 1);
    spec.it_value.tv_sec = nanoseconds / 1000000000;
    spec.it_value.tv_nsec = nanoseconds % 1000000000;
  }
  timerfd_settime(timer_.get(), 0, &spec, nullptr);
}

void EventLoop::RunDueTimers() {
  auto now = std::chrono::steady_clock::now();
  while (!timers_.empty() && timers_.top().due <= now) {
    auto task = std::move(const_cast<Timer&>(timers_.top()).task);
    timers_.pop();
    task();
  }
  ArmTimer();
}

Status EventLoop::Add(int fd, uint32_t epoll_events, Callback callback) {
  epoll_event event{};
  event.events = epoll_events;
  event.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) < 0) return FailErrno("epoll_ctl add");
  callbacks_[fd] = std::make_shared<Callback>(std::move(callback));
  return Ok();
}

Status EventLoop::Modify(int fd, uint32_t epoll_events) {
  epoll_event event{};
  event.events = epoll_events;
  event.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) < 0) return FailErrno("epoll_ctl mod");
  return Ok();
}

void EventLoop::Remove(int fd) {
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  callbacks_.erase(fd);
}

void EventLoop::Post(std::function<void()> task) {
  bool wake;
  {
    std::lock_guard lock(posted_mutex_);
    // Tasks already waiting have woken the loop, which will take this one with them.
    wake = posted_.empty();
    posted_.push_back(std::move(task));
  }
  if (!wake) return;
  uint64_t one = 1;
  // A full eventfd counter still wakes the loop, so a failed write loses nothing.
  (void)!write(wake_.get(), &one, sizeof(one));
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

Status EventLoop::RunOnce(int timeout_ms) {
  epoll_event events[32];
  int count = epoll_wait(epoll_.get(), events, 32, timeout_ms);
  if (count < 0) {
    if (errno == EINTR) return Ok();
    return FailErrno("epoll_wait");
  }
  for (int i = 0; i < count; ++i) {
    auto found = callbacks_.find(events[i].data.fd);
    if (found == callbacks_.end()) continue;  // removed by an earlier callback this round
    std::shared_ptr<Callback> callback = found->second;
    (*callback)(events[i].events);
  }
  RunPosted();
  return Ok();
}

}  // namespace vdev
