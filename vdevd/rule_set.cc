// Applying a RuleSet to one event (RuleSet::Apply), and the container members of RuleSet.
#include "rule_set.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/device.h"
#include "common/log.h"
#include "common/uevent.h"
#include "rule.h"
#include "substitution.h"

namespace vdev {

using rule::Action;
using rule::ActionKind;
using rule::Field;
using rule::IsProtectedProperty;
using rule::MatchKey;
using rule::StripQuotes;
using rule::Trim;

namespace {

// Sysfs attributes often end in padding ("ATA     "); udev compares without it.
void StripTrailingSpace(std::string& value) {
  size_t end = value.find_last_not_of(" \t\n\r\f\v");
  value.resize(end == std::string::npos ? 0 : end + 1);
}

}  // namespace

// One event while the rules run over it: lazily walks the parent chain and reads each
// attribute at most once, whichever rules ask for it.
class RuleSet::Context : public SubstitutionSource {
 public:
  explicit Context(EventState& state) : state_(state), sysname_(state.device.sysname()) {
    // Copies: rules may add properties, which moves the strings these would point into.
    action_ = state.properties.action();
    auto devtype = state.properties.Get("DEVTYPE");
    devtype_ = devtype ? *devtype : state.device.devtype();
    has_devnum_ = state.properties.devnum().has_value();
  }

  bool Matches(const Rule& rule) {
    matched_level_ = 0;
    for (const MatchKey& key : rule.keys)
      if (!key.pattern.Matches(Value(key, 0))) return false;
    if (rule.parent_keys.empty()) return true;
    // All parent keys must hold on the same device: the device itself or one ancestor.
    for (size_t level = 0; DeviceAt(level) != nullptr; ++level) {
      bool all =
          std::all_of(rule.parent_keys.begin(), rule.parent_keys.end(),
                      [&](const MatchKey& key) { return key.pattern.Matches(Value(key, level)); });
      if (all) {
        matched_level_ = level;
        return true;
      }
    }
    return false;
  }

  // Runs the rule's actions in order; stops early (and returns false) once a builtin found
  // the device busy: this attempt is discarded and the event runs again later.
  bool RunActions(const Rule& rule, ProgramRunner& runner, RuleTrace* trace) {
    for (const Action& action : rule.actions) {
      switch (action.kind) {
        case ActionKind::kOwner:
          state_.uid = action.number;
          if (trace != nullptr) trace->owner = action.name;
          break;
        case ActionKind::kGroup:
          state_.gid = action.number;
          if (trace != nullptr) trace->group = action.name;
          break;
        case ActionKind::kMode:
          state_.mode = action.number;
          break;
        case ActionKind::kLinkPriority:
          state_.link_priority = action.priority;
          break;
        case ActionKind::kSymlink:
          AddLinks(rule, action);
          break;
        case ActionKind::kSet:
          scratch_.clear();
          action.value.Expand(*this, Escape::kProperty, &scratch_);
          // An empty value removes the property, as udev's ENV{X}="" does.
          if (scratch_.empty()) {
            state_.properties.Erase(action.name);
          } else {
            state_.properties.Set(action.name, scratch_);
          }
          break;
        case ActionKind::kTag:
          for (const std::string& tag : action.tags) AddUnique(state_.tags, tag);
          break;
        case ActionKind::kImport:
          Import(rule, action, runner);
          break;
        case ActionKind::kImportParent:
          ImportParent(action);
          break;
        case ActionKind::kBuiltin:
          RunBuiltin(rule, action);
          if (state_.busy) return false;
          break;
        case ActionKind::kWatch:
          state_.watch = action.number != 0;
          break;
        case ActionKind::kRun:
          scratch_.clear();
          action.value.Expand(*this, Escape::kCommand, &scratch_);
          if (!Trim(scratch_).empty()) AddUnique(state_.run_programs, std::string(Trim(scratch_)));
          break;
        case ActionKind::kWriteAttribute:
          scratch_.clear();
          action.value.Expand(*this, Escape::kProperty, &scratch_);
          state_.attribute_writes.emplace_back(action.name, scratch_);
          break;
      }
    }
    return true;
  }

  std::string_view Lookup(Placeholder placeholder, std::string_view name) override {
    switch (placeholder) {
      case Placeholder::kKernel:
        return sysname_;
      case Placeholder::kNumber: {
        size_t start = sysname_.size();
        while (start > 0 && sysname_[start - 1] >= '0' && sysname_[start - 1] <= '9') --start;
        return std::string_view(sysname_).substr(start);
      }
      case Placeholder::kDevpath:
        return state_.device.devpath();
      case Placeholder::kMajor:
        return state_.properties.GetOr("MAJOR");
      case Placeholder::kMinor:
        return state_.properties.GetOr("MINOR");
      case Placeholder::kEnv:
        return state_.properties.GetOr(name);
      case Placeholder::kRoot:
        return state_.dev_root;
      case Placeholder::kDevnode: {
        std::string_view devname = state_.properties.devname();
        if (devname.empty()) return {};
        devnode_ = state_.dev_root + "/" + std::string(devname);
        return devnode_;
      }
      case Placeholder::kAttr: {
        // As udev: the device's own attribute, else the one of the ancestor that the
        // rule's parent keys matched.
        const std::optional<std::string>& own = Attribute(0, name);
        if (own || matched_level_ == 0) return own ? std::string_view(*own) : std::string_view();
        const std::optional<std::string>& parent = Attribute(matched_level_, name);
        return parent ? std::string_view(*parent) : std::string_view();
      }
    }
    return {};
  }

 private:
  struct CachedAttribute {
    size_t level;
    std::string_view name;  // points into the rules, which outlive the context
    std::optional<std::string> value;
  };

  // Level 0 is the device, 1 its parent, ...; nullptr past the top of the chain.
  const Device* DeviceAt(size_t level) {
    if (level == 0) return &state_.device;
    while (parents_.size() < level && !parents_complete_) {
      std::optional<Device> parent = (parents_.empty() ? state_.device : parents_.back()).Parent();
      if (!parent) {
        parents_complete_ = true;
        break;
      }
      parent_sysnames_.push_back(parent->sysname());
      parents_.push_back(std::move(*parent));
    }
    return level <= parents_.size() ? &parents_[level - 1] : nullptr;
  }

  std::string_view Value(const MatchKey& key, size_t level) {
    const Device& device = *DeviceAt(level);
    switch (key.field) {
      case Field::kAction:
        return action_;
      case Field::kSubsystem:
        return device.subsystem();
      case Field::kKernel:
        return level == 0 ? sysname_ : parent_sysnames_[level - 1];
      case Field::kDevtype:
        return level == 0 ? std::string_view(devtype_) : device.devtype();
      case Field::kDriver:
        return device.driver();
      case Field::kDevpath:
        return device.devpath();
      case Field::kEnv:
        return state_.properties.GetOr(key.name);
      case Field::kAttr: {
        const std::optional<std::string>& value = Attribute(level, key.name);
        return value ? std::string_view(*value) : std::string_view();
      }
    }
    return {};
  }

  const std::optional<std::string>& Attribute(size_t level, std::string_view name) {
    for (const CachedAttribute& cached : attributes_)
      if (cached.level == level && cached.name == name) return cached.value;
    const Device* device = DeviceAt(level);
    std::optional<std::string> value = device ? device->Attribute(name) : std::nullopt;
    if (value) StripTrailingSpace(*value);
    // A deque: references handed out earlier stay valid as it grows.
    attributes_.push_back({level, name, std::move(value)});
    return attributes_.back().value;
  }

  template <class T>
  static void AddUnique(std::vector<std::string>& list, const T& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.emplace_back(item);
  }

  void AddLinks(const Rule& rule, const Action& action) {
    if (!has_devnum_) return;  // only device nodes get links, as in udev
    scratch_.clear();
    action.value.Expand(*this, Escape::kLink, &scratch_);
    for (std::string_view link : SplitWords(scratch_)) {
      if (!IsSafeLinkName(link)) {
        LogWarning("%s:%d: refusing link '%.*s' for %s, ignoring", rule.file.c_str(), action.line,
                   static_cast<int>(link.size()), link.data(), state_.device.devpath().c_str());
        continue;
      }
      AddUnique(state_.links, link);
    }
  }

  void RunBuiltin(const Rule& rule, const Action& action) {
    scratch_.clear();
    action.value.Expand(*this, Escape::kCommand, &scratch_);
    BuiltinCall call{state_, {}};
    for (std::string_view word : SplitWords(scratch_)) call.args.emplace_back(word);
    Status ran = action.builtin->run(call);
    if (ran) return;
    // A busy device is no failure: the event is retried.
    if (state_.busy) {
      LogDebug("%s:%d: builtin %s for %s: %s", rule.file.c_str(), action.line, action.name.c_str(),
               state_.device.devpath().c_str(), ran.error().Message().c_str());
    } else {
      LogWarning("%s:%d: builtin %s for %s: %s, ignoring", rule.file.c_str(), action.line,
                 action.name.c_str(), state_.device.devpath().c_str(),
                 ran.error().Message().c_str());
    }
  }

  // udev's IMPORT{parent}: the parent's properties whose names match, from its uevent file
  // and its database record (where the rules that ran for it put ID_SERIAL, ID_PATH ...).
  void ImportParent(const Action& action) {
    const Device* parent = DeviceAt(1);
    if (parent == nullptr) return;
    auto import = [&](const Property& property) {
      auto matches = [&](const RulePattern& pattern) { return pattern.Matches(property.first); };
      if (IsProtectedProperty(property.first) ||
          std::none_of(action.names.begin(), action.names.end(), matches) ||
          std::any_of(action.excluded.begin(), action.excluded.end(), matches))
        return;
      state_.properties.Set(property.first, property.second);
    };
    for (const Property& property : parent->properties().properties()) import(property);
    if (state_.database == nullptr) return;
    auto record = state_.database->Read(parent->Id());
    if (!record) return;  // not processed yet, or never: nothing to inherit
    for (const Property& property : record->properties) import(property);
  }

  void Import(const Rule& rule, const Action& action, ProgramRunner& runner) {
    std::string command;
    action.value.Expand(*this, Escape::kCommand, &command);
    auto output = runner.Run(command, state_.properties);
    if (!output) {
      LogWarning("%s:%d: import '%s' for %s failed: %s, ignoring", rule.file.c_str(), action.line,
                 command.c_str(), state_.device.devpath().c_str(),
                 output.error().Message().c_str());
      return;
    }
    std::string_view text = *output;
    while (!text.empty()) {
      size_t end = text.find('\n');
      std::string_view line = Trim(text.substr(0, end));
      text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
      if (line.empty() || line[0] == '#') continue;
      size_t equals = line.find('=');
      std::string_view key = equals == std::string_view::npos ? line : Trim(line.substr(0, equals));
      if (equals == std::string_view::npos || !IsValidPropertyKey(key) ||
          IsProtectedProperty(key)) {
        LogDebug("%s:%d: import '%s': skipping line '%.*s'", rule.file.c_str(), action.line,
                 command.c_str(), static_cast<int>(std::min<size_t>(line.size(), 80)), line.data());
        continue;
      }
      scratch_.clear();
      AppendEscaped(StripQuotes(Trim(line.substr(equals + 1))), Escape::kProperty, &scratch_);
      if (scratch_.empty()) {
        state_.properties.Erase(key);
      } else {
        state_.properties.Set(key, scratch_);
      }
    }
  }

  EventState& state_;
  std::string sysname_;
  std::string action_;
  std::string devtype_;
  bool has_devnum_ = false;
  size_t matched_level_ = 0;
  std::deque<Device> parents_;
  std::deque<std::string> parent_sysnames_;
  bool parents_complete_ = false;
  std::deque<CachedAttribute> attributes_;
  std::string scratch_;
  std::string devnode_;
};
// ---------------------------------------------------------------------------------------

RuleSet::RuleSet() = default;
RuleSet::~RuleSet() = default;
RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;

size_t RuleSet::size() const { return rules_.size(); }

void RuleSet::Append(RuleSet&& other) {
  rules_.insert(rules_.end(), std::make_move_iterator(other.rules_.begin()),
                std::make_move_iterator(other.rules_.end()));
  other.rules_.clear();
}
void RuleSet::Apply(EventState& state, ProgramRunner& runner, RuleTrace* trace) const {
  Context context(state);
  for (const Rule& rule : rules_) {
    if (!context.Matches(rule)) continue;
    if (trace != nullptr) {
      trace->matched.push_back(rule.file + ":" + std::to_string(rule.line) + " [" + rule.section +
                               "]");
    }
    if (!context.RunActions(rule, runner, trace)) break;  // busy: this attempt is discarded
    if (rule.last) break;
  }
}

}  // namespace vdev
