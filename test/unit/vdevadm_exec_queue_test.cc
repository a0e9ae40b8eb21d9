// `vdevadm control --stop-exec-queue` / `--start-exec-queue` on the daemon's side:
// EventQueue::Pause holds queued events back while running ones finish.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "event_loop.h"
#include "event_queue.h"

namespace vdev {
namespace {

Uevent Event(const std::string& devpath) {
  Uevent event;
  event.Set("ACTION", "add");
  event.Set("DEVPATH", devpath);
  event.Set("SUBSYSTEM", "block");
  return event;
}

class ExecQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop);
    loop_ = std::move(*loop);
    queue_ = std::make_unique<EventQueue>(
        *loop_, 2,
        [this](Uevent&& event, bool) {
          std::unique_lock lock(mutex_);
          started_.emplace_back(event.devpath());
          // The first event is held inside its worker until the test lets it go.
          if (event.devpath() == "/devices/held") release_.wait(lock, [this] { return released_; });
          return ProcessOutcome{std::move(event), false};
        },
        [this](const ProcessOutcome& done) { finished_.emplace_back(done.event.devpath()); });
  }

  void TearDown() override {
    Release();
    queue_.reset();
  }

  void Release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    release_.notify_all();
  }

  // Runs the loop until condition holds (or 10 s have passed); false when it did not.
  bool RunUntil(const std::function<bool()>& condition) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!condition()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (!loop_->RunOnce(50)) return false;
    }
    return true;
  }

  std::vector<std::string> Started() {
    std::lock_guard lock(mutex_);
    return started_;
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<EventQueue> queue_;
  std::mutex mutex_;
  std::condition_variable release_;
  bool released_ = false;
  std::vector<std::string> started_;
  std::vector<std::string> finished_;  // loop thread only
};

TEST_F(ExecQueueTest, PausedQueueStartsNothingAndRunningEventsFinish) {
  queue_->Push(Event("/devices/held"));
  ASSERT_TRUE(RunUntil([&] { return Started().size() == 1; }));
  queue_->Pause(true);
  EXPECT_TRUE(queue_->paused());
  queue_->Push(Event("/devices/a"));
  queue_->Push(Event("/devices/b"));
  EXPECT_EQ(queue_->queued(), 2u);
  EXPECT_FALSE(queue_->idle());

  // The running event finishes; its completion must not start the queued ones.
  Release();
  ASSERT_TRUE(RunUntil([&] { return finished_.size() == 1; }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(loop_->RunOnce(10));
  EXPECT_EQ(Started(), std::vector<std::string>{"/devices/held"});
  EXPECT_EQ(queue_->queued(), 2u);
  EXPECT_EQ(queue_->running(), 0u);
  EXPECT_FALSE(queue_->idle());  // so a settle keeps waiting, as with udevd

  queue_->Pause(false);
  EXPECT_FALSE(queue_->paused());
  ASSERT_TRUE(RunUntil([&] { return queue_->idle(); }));
  EXPECT_EQ(finished_.size(), 3u);
  auto started = Started();
  EXPECT_EQ(started.size(), 3u);
}

TEST_F(ExecQueueTest, PauseAndResumeAreIdempotent) {
  Release();
  queue_->Pause(true);
  queue_->Pause(true);
  queue_->Push(Event("/devices/a"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop_->RunOnce(10));
  EXPECT_TRUE(Started().empty());
  queue_->Pause(false);
  queue_->Pause(false);
  ASSERT_TRUE(RunUntil([&] { return queue_->idle(); }));
  EXPECT_EQ(finished_, std::vector<std::string>{"/devices/a"});
}

}  // namespace
}  // namespace vdev
