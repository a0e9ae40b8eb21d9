// Parsing rule files into a RuleSet: RuleSet::Parse (one file's text), RuleSet::Load (the
// rules directories) and the account lookups they use.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/fs_util.h"
#include "common/log.h"
#include "common/numbers.h"
#include "common/uevent.h"
#include "rule.h"
#include "rule_pattern.h"
#include "rule_set.h"
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

bool IsTagName(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool IsAllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

AccountResolver AccountResolver::System() {
  AccountResolver resolver;
  resolver.user = [](const std::string& name) -> std::optional<uid_t> {
    std::vector<char> buffer(4096);
    struct passwd entry {};
    struct passwd* found = nullptr;
    int error;
    while ((error = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
               ERANGE &&
           buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
    }
    if (error != 0 || found == nullptr) return std::nullopt;
    return entry.pw_uid;
  };
  resolver.group = [](const std::string& name) -> std::optional<gid_t> {
    std::vector<char> buffer(4096);
    struct group entry {};
    struct group* found = nullptr;
    int error;
    while ((error = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
               ERANGE &&
           buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
    }
    if (error != 0 || found == nullptr) return std::nullopt;
    return entry.gr_gid;
  };
  return resolver;
}

// Feeds one file to inih through a line reader of our own. The reader knows the line
// number of every handler call (inih only reports the first failing line), sees section
// headers (inih does not report them, so duplicate and empty sections would go unnoticed),
// and strips indentation, which inih would otherwise take as a continuation of the
// previous key ("  mode = 0660" appended to the previous value).
class RuleSet::Parser {
 public:
  Parser(std::string_view file, std::string_view text, const AccountResolver& accounts)
      : file_(file), text_(text), accounts_(accounts) {}

  Result<RuleSet> Run(std::vector<std::string>* warnings) {
    int first_failure = ini_parse_stream(&Parser::Read, this, &Parser::Handle, this);
    if (first_failure == -2) return Fail(ENOMEM, std::string(file_) + ": out of memory");
    if (first_failure > 0 && std::none_of(errors_.begin(), errors_.end(), [&](const auto& error) {
          return error.first <= first_failure;
        })) {
      errors_.emplace_back(first_failure, "syntax error: expected '[section]' or 'key = value'");
    }
    if (!errors_.empty()) {
      auto first = std::min_element(errors_.begin(), errors_.end(),
                                    [](const auto& a, const auto& b) { return a.first < b.first; });
      return Fail(EINVAL, Location(first->first) + ": " + first->second);
    }
    if (warnings != nullptr) warnings->insert(warnings->end(), warnings_.begin(), warnings_.end());

    RuleSet set;
    for (Rule& rule : rules_) {
      if (rule.actions.empty() && !rule.last) continue;  // matches, but changes nothing
      std::stable_sort(rule.keys.begin(), rule.keys.end(),
                       [](const MatchKey& a, const MatchKey& b) { return a.field < b.field; });
      std::stable_sort(rule.parent_keys.begin(), rule.parent_keys.end(),
                       [](const MatchKey& a, const MatchKey& b) { return a.field < b.field; });
      set.rules_.push_back(std::move(rule));
    }
    return set;
  }

 private:
  std::string Location(int line) const { return std::string(file_) + ":" + std::to_string(line); }

  static char* Read(char* buffer, int size, void* user) {
    auto* self = static_cast<Parser*>(user);
    if (self->position_ >= self->text_.size() || size < 2) return nullptr;
    size_t end = self->text_.find('\n', self->position_);
    if (end == std::string_view::npos) end = self->text_.size();
    std::string_view line = self->text_.substr(self->position_, end - self->position_);
    self->position_ = end + 1;
    ++self->line_;
    if (self->line_ == 1 && line.starts_with("\xef\xbb\xbf")) line.remove_prefix(3);
    line = Trim(line);
    if (line.find('\0') != std::string_view::npos) {
      self->AddError("NUL byte in line");
      line = {};
    } else if (line.size() > static_cast<size_t>(size) - 2) {  // room for "\n\0"
      self->AddError("line longer than " + std::to_string(size - 2) + " characters");
      line = {};
    }
    if (!line.empty()) std::memcpy(buffer, line.data(), line.size());
    buffer[line.size()] = '\n';
    buffer[line.size() + 1] = '\0';
    if (line.starts_with('[')) self->StartSection(line);
    return buffer;
  }

  static int Handle(void* user, const char* /*section*/, const char* name, const char* value) {
    auto* self = static_cast<Parser*>(user);
    Status handled = self->HandleKey(name, StripQuotes(value));
    if (!handled) {
      self->AddError(handled.error().context);
      return 0;
    }
    return 1;
  }

  void AddError(std::string reason) { errors_.emplace_back(line_, std::move(reason)); }
  void AddWarning(const std::string& reason) {
    warnings_.push_back(Location(line_) + ": " + reason + ", ignoring");
  }

  // line starts with '['; inih reports a header without ']' as a syntax error itself.
  void StartSection(std::string_view line) {
    size_t close = line.find(']');
    if (close == std::string_view::npos) return;
    std::string name(Trim(line.substr(1, close - 1)));
    if (name.empty()) AddError("empty section name");
    if (!sections_.insert(name).second) AddError("duplicate section [" + name + "]");
    Rule rule;
    rule.file = file_;
    rule.line = line_;
    rule.section = std::move(name);
    rules_.push_back(std::move(rule));
    keys_.clear();
  }

  Status HandleKey(std::string_view key, std::string_view value) {
    if (rules_.empty()) return Fail(EINVAL, "key outside a section");
    Rule& rule = rules_.back();
    bool repeatable =
        key == "symlink" || key == "tag" || key == "import" || key == "import.parent" ||
        key == "builtin" || key == "run";
    if (!repeatable && !keys_.insert(std::string(key)).second)
      return Fail(EINVAL, "duplicate key '" + std::string(key) + "'");

    static const std::map<std::string_view, Field> kDeviceFields = {
        {"action", Field::kAction}, {"subsystem", Field::kSubsystem}, {"devtype", Field::kDevtype},
        {"kernel", Field::kKernel}, {"driver", Field::kDriver},       {"devpath", Field::kDevpath},
    };
    static const std::map<std::string_view, Field> kParentFields = {
        {"subsystem", Field::kSubsystem}, {"kernel", Field::kKernel}, {"driver", Field::kDriver}};

    std::vector<MatchKey>* keys = &rule.keys;
    std::string_view match = key;
    if (match.starts_with("parent.")) {
      keys = &rule.parent_keys;
      match.remove_prefix(7);
      if (auto field = kParentFields.find(match); field != kParentFields.end())
        return AddMatch(keys, field->second, "", key, value);
      if (!match.starts_with("attr."))
        return Fail(EINVAL, "unknown key '" + std::string(key) + "'");
    } else if (auto field = kDeviceFields.find(match); field != kDeviceFields.end()) {
      return AddMatch(keys, field->second, "", key, value);
    }
    if (match.starts_with("attr.")) {
      std::string_view name = match.substr(5);
      if (!IsValidAttributeName(name))
        return Fail(EINVAL, "invalid attribute name '" + std::string(name) + "'");
      return AddMatch(keys, Field::kAttr, name, key, value);
    }
    if (match.starts_with("env.")) {
      std::string_view name = match.substr(4);
      if (!IsValidPropertyKey(name))
        return Fail(EINVAL, "invalid property name '" + std::string(name) + "'");
      return AddMatch(keys, Field::kEnv, name, key, value);
    }
    return HandleAction(rule, key, value);
  }

  Status AddMatch(std::vector<MatchKey>* keys, Field field, std::string_view name,
                  std::string_view key, std::string_view value) {
    auto pattern = RulePattern::Compile(value);
    if (!pattern) {
      return Fail(EINVAL, "invalid pattern '" + std::string(value) + "' for '" + std::string(key) +
                              "': " + pattern.error().context);
    }
    keys->push_back({field, std::string(name), std::move(*pattern)});
    return Ok();
  }

  Result<Template> CompileValue(std::string_view key, std::string_view value) {
    auto compiled = Template::Compile(value);
    if (!compiled) {
      return Fail(EINVAL,
                  "invalid value for '" + std::string(key) + "': " + compiled.error().context);
    }
    return compiled;
  }

  Status HandleAction(Rule& rule, std::string_view key, std::string_view value) {
    Action action;
    action.line = line_;
    bool needs_value = key != "set" && !key.starts_with("set.");
    if (needs_value && value.empty())
      return Fail(EINVAL, "empty value for '" + std::string(key) + "'");

    if (key == "owner" || key == "group") {
      bool user = key == "owner";
      action.kind = user ? ActionKind::kOwner : ActionKind::kGroup;
      action.name = value;
      if (IsAllDigits(value)) {
        auto id = ParseNumber<unsigned>(value);
        if (!id || *id == static_cast<unsigned>(-1))
          return Fail(EINVAL, "invalid " + std::string(user ? "user" : "group") + " id '" +
                                  std::string(value) + "'");
        action.number = *id;
      } else {
        const auto& resolve = user ? accounts_.user : accounts_.group;
        std::optional<unsigned> id = resolve ? resolve(action.name) : std::nullopt;
        if (!id) {
          AddWarning("unknown " + std::string(user ? "user" : "group") + " '" + action.name + "'");
          return Ok();
        }
        action.number = *id;
      }
    } else if (key == "mode") {
      auto mode = ParseNumber<unsigned>(value, 8);
      if (!mode || *mode > 07777 || value.size() > 5 || value[0] == '+' || value[0] == '-')
        return Fail(EINVAL, "invalid mode '" + std::string(value) + "'");
      action.kind = ActionKind::kMode;
      action.number = *mode;
    } else if (key == "symlink") {
      action.kind = ActionKind::kSymlink;
      auto compiled = CompileValue(key, value);
      if (!compiled) return tl::unexpected(compiled.error());
      action.value = std::move(*compiled);
      if (!action.value.has_placeholders()) {
        for (std::string_view link : SplitWords(value))
          if (!IsSafeLinkName(link))
            return Fail(EINVAL, "invalid link '" + std::string(link) + "'");
      }
    } else if (key == "link_priority") {
      auto priority = ParseNumber<int>(value);
      if (!priority) return Fail(EINVAL, "invalid link_priority '" + std::string(value) + "'");
      action.kind = ActionKind::kLinkPriority;
      action.priority = *priority;
    } else if (key.starts_with("set.")) {
      std::string_view name = key.substr(4);
      if (!IsValidPropertyKey(name))
        return Fail(EINVAL, "invalid property name '" + std::string(name) + "'");
      if (IsProtectedProperty(name))
        return Fail(EINVAL, "property '" + std::string(name) + "' cannot be set by rules");
      action.kind = ActionKind::kSet;
      action.name = name;
      auto compiled = CompileValue(key, value);
      if (!compiled) return tl::unexpected(compiled.error());
      action.value = std::move(*compiled);
    } else if (key.starts_with("write.")) {
      // udev's ATTR{name}="value" assignment.
      std::string_view name = key.substr(6);
      if (!IsDeviceAttributePath(name))
        return Fail(EINVAL, "invalid attribute '" + std::string(name) +
                                "': a path below the device, '../' only at its start");
      action.kind = ActionKind::kWriteAttribute;
      action.name = name;
      auto compiled = CompileValue(key, value);
      if (!compiled) return tl::unexpected(compiled.error());
      action.value = std::move(*compiled);
    } else if (key == "tag") {
      action.kind = ActionKind::kTag;
      for (std::string_view tag : SplitWords(value)) {
        if (!IsTagName(tag)) return Fail(EINVAL, "invalid tag '" + std::string(tag) + "'");
        action.tags.emplace_back(tag);
      }
    } else if (key == "import" || key == "run") {
      action.kind = key == "import" ? ActionKind::kImport : ActionKind::kRun;
      auto compiled = CompileValue(key, value);
      if (!compiled) return tl::unexpected(compiled.error());
      action.value = std::move(*compiled);
    } else if (key == "import.parent") {
      // udev's IMPORT{parent}: property-name globs, not substituted; "!GLOB" excludes.
      for (std::string_view word : SplitWords(value)) {
        bool exclude = word.starts_with('!');
        auto pattern = RulePattern::Compile(exclude ? word.substr(1) : word);
        if (!pattern) return tl::unexpected(pattern.error());
        (exclude ? action.excluded : action.names).push_back(std::move(*pattern));
      }
      if (action.names.empty()) return Fail(EINVAL, "import.parent names no property");
      action.kind = ActionKind::kImportParent;
    } else if (key == "builtin") {
      // The name is resolved now, so a typo fails the file instead of every event; only
      // the arguments are substituted.
      std::string_view rest = Trim(value);
      size_t end = rest.find_first_of(" \t");
      std::string name(rest.substr(0, end));
      if (name.find_first_of("%$") != std::string::npos)
        return Fail(EINVAL, "builtin name '" + name + "' cannot be substituted");
      action.builtin = FindBuiltin(name);
      if (action.builtin == nullptr) return Fail(EINVAL, "unknown builtin '" + name + "'");
      action.kind = ActionKind::kBuiltin;
      action.name = name;
      std::string_view args =
          end == std::string_view::npos ? std::string_view() : Trim(rest.substr(end));
      auto compiled = CompileValue(key, args);
      if (!compiled) return tl::unexpected(compiled.error());
      action.value = std::move(*compiled);
    } else if (key == "watch") {
      // udev's OPTIONS+="watch" / "nowatch": see BlockWatch.
      if (value == "yes" || value == "true" || value == "1") {
        action.number = 1;
      } else if (value != "no" && value != "false" && value != "0") {
        return Fail(EINVAL, "invalid boolean '" + std::string(value) + "' for 'watch'");
      }
      action.kind = ActionKind::kWatch;
    } else if (key == "last") {
      if (value == "yes" || value == "true" || value == "1") {
        rule.last = true;
      } else if (value != "no" && value != "false" && value != "0") {
        return Fail(EINVAL, "invalid boolean '" + std::string(value) + "' for 'last'");
      }
      return Ok();
    } else {
      return Fail(EINVAL, "unknown key '" + std::string(key) + "'");
    }
    rule.actions.push_back(std::move(action));
    return Ok();
  }

  std::string_view file_;
  std::string_view text_;
  const AccountResolver& accounts_;
  size_t position_ = 0;
  int line_ = 0;
  std::vector<Rule> rules_;
  std::set<std::string> sections_;
  std::set<std::string> keys_;  // single-valued keys seen in the current section
  std::vector<std::pair<int, std::string>> errors_;
  std::vector<std::string> warnings_;
};

// ---------------------------------------------------------------------------------------

Result<RuleSet> RuleSet::Parse(std::string_view file_name, std::string_view text,
                               const AccountResolver& accounts,
                               std::vector<std::string>* warnings) {
  return Parser(file_name, text, accounts).Run(warnings);
}

RuleLoadResult RuleSet::Load(const std::vector<std::string>& dirs,
                             const AccountResolver& accounts) {
  RuleLoadResult result;
  std::map<std::string, std::string> files;  // name -> path; sorted by name
  for (const std::string& dir : dirs) {
    auto fd = OpenDirAt(AT_FDCWD, dir);
    if (!fd) {
      if (fd.error().code != ENOENT) result.errors.push_back(dir + ": " + fd.error().Message());
      continue;
    }
    std::unique_ptr<DIR, int (*)(DIR*)> listing(fdopendir(fd->get()), closedir);
    if (!listing) {
      result.errors.push_back(dir + ": " + std::strerror(errno));
      continue;
    }
    fd->release();  // the DIR owns it now
    while (struct dirent* entry = readdir(listing.get())) {
      std::string_view name = entry->d_name;
      if (name.starts_with('.') || !name.ends_with(".rules") || entry->d_type == DT_DIR) continue;
      files.emplace(name, dir + "/" + std::string(name));  // an earlier directory wins
    }
  }
  for (const auto& [name, path] : files) {
    auto text = ReadFileAt(AT_FDCWD, path);
    if (!text) {
      result.errors.push_back(path + ": " + text.error().Message());
      continue;
    }
    std::vector<std::string> warnings;
    auto parsed = Parse(path, *text, accounts, &warnings);
    if (!parsed) {
      result.errors.push_back(parsed.error().context);
      continue;
    }
    for (const std::string& warning : warnings) LogWarning("%s", warning.c_str());
    result.warnings.insert(result.warnings.end(), warnings.begin(), warnings.end());
    result.rules.Append(std::move(*parsed));
  }
  return result;
}

}  // namespace vdev
