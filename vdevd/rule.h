// The compiled form of one rule (its match keys and actions), private to RuleSet: written by
// the parser (rule_parser.cc), read by Apply (rule_set.cc). Nothing else includes this.
#pragma once

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "builtin.h"
#include "rule_pattern.h"
#include "rule_set.h"
#include "substitution.h"

namespace vdev {
// A namespace of its own: these names were file-local and are generic enough to collide.
namespace rule {

// What a match key looks at. The order is the order of cost: keys are checked cheapest first.
enum class Field : unsigned char {
  kAction,
  kSubsystem,
  kKernel,
  kDevtype,
  kDriver,
  kDevpath,
  kEnv,   // a property: a lookup in the event's list
  kAttr,  // a sysfs attribute: a file read (once per event)
};

struct MatchKey {
  Field field;
  std::string name;  // property or attribute name
  RulePattern pattern;
};

enum class ActionKind : unsigned char {
  kOwner,
  kGroup,
  kMode,
  kSymlink,
  kLinkPriority,
  kSet,
  kTag,
  kImport,
  kImportParent,
  kBuiltin,
  kWatch,
  kRun,
  kWriteAttribute,
};

struct Action {
  ActionKind kind;
  int line = 0;
  unsigned number = 0;  // uid, gid or mode; kWatch: 1 to watch, 0 not to
  int priority = 0;
  std::string name;  // kSet: the property; kOwner/kGroup: the name as written;
                     // kWriteAttribute: the attribute, relative to the device
  Template value;    // kSymlink, kSet, kImport, kRun, kWriteAttribute; kBuiltin: the arguments
  std::vector<std::string> tags;
  const Builtin* builtin = nullptr;  // kBuiltin; resolved when the rules are loaded
  // kImportParent: the parent's properties to import are those matching one of names and
  // none of excluded.
  std::vector<RulePattern> names, excluded;
};

// Properties the daemon itself relies on: rules (set.X, refused when parsed) and imports
// (skipped when applied) may not change them.
inline bool IsProtectedProperty(std::string_view key) {
  static constexpr std::string_view kProtected[] = {
      "ACTION",  "DEVPATH",  "SUBSYSTEM", "SEQNUM",       "MAJOR",
      "MINOR",   "DEVNAME",  "DEVTYPE",   "DRIVER",       "IFINDEX",
      "DISKSEQ", "DEVLINKS", "TAGS",      "CURRENT_TAGS", "USEC_INITIALIZED",
  };
  return std::find(std::begin(kProtected), std::end(kProtected), key) != std::end(kProtected);
}

inline std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  size_t start = text.find_first_not_of(kSpace);
  if (start == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(kSpace);
  return text.substr(start, end - start + 1);
}

// Values in rule files and in import output may be quoted with "..." or '...'.
inline std::string_view StripQuotes(std::string_view value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

}  // namespace rule

struct RuleSet::Rule {
  std::string file;
  int line = 0;
  std::string section;
  std::vector<rule::MatchKey> keys;         // the device's own, cheapest first
  std::vector<rule::MatchKey> parent_keys;  // all must match on one device of the parent chain
  std::vector<rule::Action> actions;        // in file order
  bool last = false;
};

}  // namespace vdev
