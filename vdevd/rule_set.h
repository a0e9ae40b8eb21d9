// RuleSet: the rules (*.rules ini files) loaded and compiled once, then applied to each
// event: match keys select a rule, its actions set owner, group, mode, links, properties,
// tags and programs. The format is documented in rules/README.md.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "event_state.h"
#include "program_runner.h"

namespace vdev {

// Turns owner and group names into ids when the rules are loaded. Tests give their own
// table; the daemon uses System().
struct AccountResolver {
  std::function<std::optional<uid_t>(const std::string& name)> user;
  std::function<std::optional<gid_t>(const std::string& name)> group;

  // getpwnam_r / getgrnam_r.
  static AccountResolver System();
};

// What Apply did, for `vdevadm test`, --dry-run and tests.
struct RuleTrace {
  std::vector<std::string> matched;  // "file:line [section]" of each matching rule
  std::string owner;                 // the owner and group names of the last rule that set
  std::string group;                 // them (as written in the rule), empty when none did
};

struct RuleLoadResult;

class RuleSet {
 public:
  RuleSet();
  ~RuleSet();
  RuleSet(RuleSet&&) noexcept;
  RuleSet& operator=(RuleSet&&) noexcept;

  // Reads every *.rules file of dirs, a file name in an earlier directory hiding the same
  // name in later ones, and concatenates them in file-name order. A file that does not
  // parse is skipped and reported in errors (not logged: the caller decides); warnings
  // (unknown users or groups) are logged here and also returned. A directory that does not
  // exist is skipped silently.
  static RuleLoadResult Load(const std::vector<std::string>& dirs,
                             const AccountResolver& accounts = AccountResolver::System());

  // Parses one file's text. Fails with EINVAL and the context "file_name:line: reason" at
  // the first error; non-fatal problems are appended to *warnings as
  // "file_name:line: reason, ignoring".
  [[nodiscard]] static Result<RuleSet> Parse(
      std::string_view file_name, std::string_view text,
      const AccountResolver& accounts = AccountResolver::System(),
      std::vector<std::string>* warnings = nullptr);

  // Runs the rules over state (ACTION and properties from state.properties, sysfs through
  // state.device), in order, until a rule with `last = yes` matches or a builtin finds the
  // device busy (state.busy: the caller discards this attempt and retries the event).
  // Imports run through runner, builtins in process. Safe to call from several threads at
  // once on the same RuleSet.
  void Apply(EventState& state, ProgramRunner& runner, RuleTrace* trace = nullptr) const;

  // The number of rules.
  size_t size() const;

  // Appends other's rules after this set's.
  void Append(RuleSet&& other);

 private:
  struct Rule;
  class Parser;
  class Context;

  std::vector<Rule> rules_;
};

struct RuleLoadResult {
  RuleSet rules;
  std::vector<std::string> errors;    // "file:line: reason"; those files were skipped
  std::vector<std::string> warnings;  // "file:line: reason, ignoring"; already logged
};

}  // namespace vdev
