// RuleStore: the rule set in force, swapped whole on reload while workers keep using the
// set they started an event with.
#pragma once

#include <memory>
#include <mutex>

namespace vdev {

class RuleSet;

class RuleStore {
 public:
  std::shared_ptr<const RuleSet> Get() const {
    std::lock_guard lock(mutex_);
    return rules_;
  }
  void Set(std::shared_ptr<const RuleSet> rules) {
    std::lock_guard lock(mutex_);
    rules_ = std::move(rules);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const RuleSet> rules_;
};

}  // namespace vdev
