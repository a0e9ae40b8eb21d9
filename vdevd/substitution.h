// Substitution: rule values with %k / $kernel-style placeholders, compiled once when the
// rules are loaded and expanded per event with the escaping each use needs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vdev {

// What a placeholder stands for. kEnv and kAttr carry a name ("%E{ID_FS_UUID}").
enum class Placeholder : unsigned char {
  kKernel,   // %k $kernel: the sysname
  kNumber,   // %n $number: the trailing digits of the sysname
  kDevpath,  // %p $devpath
  kMajor,    // %M $major
  kMinor,    // %m $minor
  kEnv,      // %E{X} $env{X}: a property
  kAttr,     // %s{X} $attr{X}: a sysfs attribute
  kDevnode,  // %N $devnode: the node's path below the dev root ("/dev/sda1")
  kRoot,     // %r $root: the dev root ("/dev")
};

// How substituted values are made safe; literal text from the rule file is kept as written.
enum class Escape : unsigned char {
  // Property values: control bytes become '_' (a newline would split the record).
  kProperty,
  // Command lines: control bytes become '_'; spaces stay, as in udev's RUN.
  kCommand,
  // Symlink names: as udev, only ASCII letters and digits, "#+-.:=@_/\" and valid UTF-8
  // sequences survive; everything else, whitespace included, becomes '_'. '\' is kept so
  // that *_ENC values ("by-label/my\x20disk") pass unchanged.
  kLink,
};

// Answers placeholders while a template is expanded.
class SubstitutionSource {
 public:
  virtual ~SubstitutionSource() = default;
  // The value, or "" when there is none. The view need only live until the next call.
  virtual std::string_view Lookup(Placeholder placeholder, std::string_view name) = 0;
};

class Template {
 public:
  // EINVAL with a reason for an unknown placeholder ("%x"), an unterminated "{", or an
  // invalid property or attribute name.
  [[nodiscard]] static Result<Template> Compile(std::string_view text);

  // Appends the expansion to *out.
  void Expand(SubstitutionSource& source, Escape escape, std::string* out) const;

  bool has_placeholders() const { return has_placeholders_; }
  const std::string& text() const { return text_; }

 private:
  struct Part {
    bool literal;
    Placeholder placeholder;  // when !literal
    std::string text;         // the literal, or the placeholder's name
  };

  std::string text_;
  bool has_placeholders_ = false;
  std::vector<Part> parts_;
};

// Appends value to *out with escape applied (what Expand does to substituted values).
void AppendEscaped(std::string_view value, Escape escape, std::string* out);

// A symlink name the daemon may create below the dev root: not empty, not absolute, no
// empty, "." or ".." component, no control bytes.
bool IsSafeLinkName(std::string_view link);

// A sysfs attribute below a device: a relative path without empty, "." or ".." components.
bool IsValidAttributeName(std::string_view name);

// An attribute to write, relative to the device: a valid attribute name after any number
// of leading "../" (udev's ATTR{../uevent}, the parent's). Whether it stays inside sysfs
// depends on the device's depth: checked when it is written.
bool IsDeviceAttributePath(std::string_view name);

// Splits on ASCII whitespace, dropping empty words.
std::vector<std::string_view> SplitWords(std::string_view text);

}  // namespace vdev
