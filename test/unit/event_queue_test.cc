#include "event_queue.h"

#include <sys/sysmacros.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace vdev {
namespace {

EventKeys Keys(std::string devpath, std::optional<dev_t> devnum = std::nullopt, bool block = false,
               std::string devpath_old = "", std::optional<int> ifindex = std::nullopt) {
  EventKeys keys;
  keys.devpath = std::move(devpath);
  keys.devnum = devnum;
  keys.block = block;
  keys.devpath_old = std::move(devpath_old);
  keys.ifindex = ifindex;
  return keys;
}

// systemd's devpath-conflict cases (udevd's event_is_blocked), as a table.
TEST(EventsConflict, SystemdCases) {
  struct Case {
    EventKeys earlier, later;
    bool conflict;
    const char* why;
  } cases[] = {
      {Keys("/devices/a/b"), Keys("/devices/a/b"), true, "same devpath"},
      {Keys("/devices/a"), Keys("/devices/a/b/c"), true, "earlier is a parent"},
      {Keys("/devices/a/b/c"), Keys("/devices/a"), true, "earlier is a child"},
      {Keys("/devices/a/b"), Keys("/devices/a/bc"), false, "prefix without a slash"},
      {Keys("/devices/a/b"), Keys("/devices/a/c"), false, "siblings"},
      {Keys("/devices/x", makedev(7, 0), true), Keys("/devices/y", makedev(7, 0), true), true,
       "same block devnum"},
      {Keys("/devices/x", makedev(7, 0), true), Keys("/devices/y", makedev(7, 0), false), false,
       "char and block with the same numbers"},
      {Keys("/devices/new", std::nullopt, false, "/devices/old"), Keys("/devices/old"), true,
       "move: later touches the old name"},
      {Keys("/devices/old/child"), Keys("/devices/new", std::nullopt, false, "/devices/old"),
       true, "move: old name's child still busy"},
      {Keys("/devices/n1", std::nullopt, false, "", 3), Keys("/devices/n2", std::nullopt, false, "", 3),
       true, "same ifindex"},
  };
  for (const auto& c : cases) EXPECT_EQ(EventsConflict(c.earlier, c.later), c.conflict) << c.why;
}

Uevent Event(const std::string& action, const std::string& devpath, const std::string& id,
             std::string major = "", std::string minor = "") {
  Uevent event;
  event.Set("ACTION", action);
  event.Set("DEVPATH", devpath);
  event.Set("SUBSYSTEM", "block");
  event.Set("ID", id);
  if (!major.empty()) {
    event.Set("MAJOR", major);
    event.Set("MINOR", minor);
  }
  return event;
}

// Drives a real EventQueue with real worker threads; the processor records start/end order.
class EventQueueTest : public ::testing::Test {
 protected:
  void Run(std::vector<Uevent> events, size_t workers) {
    loop_ = std::move(*EventLoop::Create());
    EventQueue queue(
        *loop_, workers,
        [this](Uevent&& event, bool /*last_attempt*/) {
          std::string id(event.GetOr("ID"));
          {
            std::lock_guard lock(mutex_);
            running_.insert(id);
            max_parallel_ = std::max(max_parallel_, running_.size());
            starts_.push_back(id);
            for (const auto& [blocker, blocked] : must_not_overlap_) {
              if ((id == blocked && running_.count(blocker)) ||
                  (id == blocker && running_.count(blocked)))
                overlaps_.push_back(blocker + "/" + blocked);
            }
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          std::lock_guard lock(mutex_);
          running_.erase(id);
          return ProcessOutcome{std::move(event), false};
        },
        [this](const ProcessOutcome& done) {
          finished_.push_back(std::string(done.event.GetOr("ID")));
        });
    for (auto& event : events) queue.Push(std::move(event));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!queue.idle() && std::chrono::steady_clock::now() < deadline)
      ASSERT_TRUE(loop_->RunOnce(100));
    ASSERT_TRUE(queue.idle());
  }

  size_t IndexOf(const std::vector<std::string>& list, const std::string& id) {
    return std::find(list.begin(), list.end(), id) - list.begin();
  }

  std::unique_ptr<EventLoop> loop_;
  std::mutex mutex_;
  std::set<std::string> running_;
  size_t max_parallel_ = 0;
  std::vector<std::string> starts_, finished_, overlaps_;
  std::vector<std::pair<std::string, std::string>> must_not_overlap_;
};

TEST_F(EventQueueTest, IndependentEventsRunInParallel) {
  std::vector<Uevent> events;
  for (int i = 0; i < 8; ++i)
    events.push_back(Event("add", "/devices/virtual/block/loop" + std::to_string(i), std::to_string(i)));
  Run(std::move(events), 4);
  EXPECT_EQ(finished_.size(), 8u);
  EXPECT_GT(max_parallel_, 1u);
  EXPECT_LE(max_parallel_, 4u);
}

TEST_F(EventQueueTest, DependentEventsKeepTheirOrder) {
  must_not_overlap_ = {{"disk-add", "part-add"}, {"part-add", "disk-change"},
                       {"loop0-add", "loop0-remove"}, {"devnum-a", "devnum-b"}};
  std::vector<Uevent> events = {
      Event("add", "/devices/virtual/block/loop0", "loop0-add"),
      Event("add", "/devices/pci/disk", "disk-add"),
      Event("add", "/devices/pci/disk/part1", "part-add"),
      Event("change", "/devices/pci/disk", "disk-change"),
      Event("remove", "/devices/virtual/block/loop0", "loop0-remove"),
      Event("add", "/devices/virtual/block/x", "devnum-a", "7", "9"),
      Event("add", "/devices/virtual/block/y", "devnum-b", "7", "9"),
      Event("add", "/devices/other", "independent"),
  };
  Run(std::move(events), 4);
  EXPECT_TRUE(overlaps_.empty()) << overlaps_.front();
  EXPECT_LT(IndexOf(finished_, "disk-add"), IndexOf(finished_, "part-add"));
  EXPECT_LT(IndexOf(finished_, "part-add"), IndexOf(finished_, "disk-change"));
  EXPECT_LT(IndexOf(finished_, "loop0-add"), IndexOf(finished_, "loop0-remove"));
  EXPECT_LT(IndexOf(finished_, "devnum-a"), IndexOf(finished_, "devnum-b"));
  // The independent event was not held back behind the chain.
  EXPECT_LT(IndexOf(starts_, "independent"), IndexOf(starts_, "disk-change"));
}

TEST_F(EventQueueTest, ManyEventsOnOneDeviceRunOneAtATime) {
  std::vector<Uevent> events;
  for (int i = 0; i < 50; ++i)
    events.push_back(Event("change", "/devices/virtual/block/loop0", std::to_string(i)));
  Run(std::move(events), 4);
  EXPECT_EQ(max_parallel_, 1u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(finished_[i], std::to_string(i));
}

// A device that is busy for its first attempts is retried on a timer; meanwhile its later
// events wait and other devices' events run.
TEST(EventQueueRetry, BusyDeviceIsRetriedWithoutBlockingOthers) {
  auto loop = std::move(*EventLoop::Create());
  std::mutex mutex;
  std::vector<std::string> log;
  int busy_attempts_left = 3;
  EventQueue queue(
      *loop, 2,
      [&](Uevent&& event, bool last_attempt) {
        std::lock_guard lock(mutex);
        std::string id(event.GetOr("ID"));
        if (id == "disk-add" && busy_attempts_left > 0 && !last_attempt) {
          --busy_attempts_left;
          log.push_back("busy " + id);
          return ProcessOutcome{std::move(event), true};
        }
        log.push_back("done " + id);
        return ProcessOutcome{std::move(event), false};
      },
      [](const ProcessOutcome&) {});
  queue.Push(Event("add", "/devices/virtual/block/loop0", "disk-add"));
  queue.Push(Event("change", "/devices/virtual/block/loop0", "disk-change"));
  queue.Push(Event("add", "/devices/virtual/block/loop1", "other"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!queue.idle() && std::chrono::steady_clock::now() < deadline)
    ASSERT_TRUE(loop->RunOnce(100));
  ASSERT_TRUE(queue.idle());
  std::vector<std::string> disk_events;
  for (const auto& line : log)
    if (line.find("disk") != std::string::npos) disk_events.push_back(line);
  EXPECT_EQ(disk_events, (std::vector<std::string>{"busy disk-add", "busy disk-add", "busy disk-add",
                                                   "done disk-add", "done disk-change"}));
  // The other device did not wait for the busy one's retries.
  auto position = [&](const std::string& line) {
    return std::find(log.begin(), log.end(), line) - log.begin();
  };
  EXPECT_LT(position("done other"), position("done disk-add"));
}

TEST(EventLoopTimers, RunInDueOrder) {
  auto loop = std::move(*EventLoop::Create());
  std::vector<int> order;
  loop->RunAfter(std::chrono::milliseconds(30), [&] { order.push_back(3); });
  loop->RunAfter(std::chrono::milliseconds(1), [&] { order.push_back(1); });
  loop->RunAfter(std::chrono::milliseconds(10), [&] { order.push_back(2); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (order.size() < 3 && std::chrono::steady_clock::now() < deadline)
    ASSERT_TRUE(loop->RunOnce(100));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace vdev
