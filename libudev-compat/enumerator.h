// Enumerator: sd-device-enumerator's scan (systemd 252) over a Context: which directories are
// walked for which filters, how each filter matches, and the order of the result.
//
//  - No tag and no parent filter: every entry of bus/*/devices/ and class/*/ (the directory
//    names matched against the subsystem filters, entry names against the sysname filters),
//    then every ancestor of a matching device that has a subsystem and passes the filters.
//  - A tag filter: the devices listed in RUN/udev/tags/<tag>/ for any of the tags (a union),
//    then subsystem, sysname, parent, property and sysattr filters; is_initialized is ignored.
//  - Otherwise a parent filter: the parent and every directory below it that is a device.
//  - Subsystems: module/*, bus/* and bus/*/drivers/* as the subsystem filters allow.
// Subsystem, sysname, property names and all values are fnmatch patterns; sysattr names are
// exact. Several values for one sysattr or property are alternatives; different sysattrs must
// all match, different properties any one. nomatch filters exclude. The result is sorted with
// DevpathLess and holds each syspath once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/result.h"
#include "device_view.h"
#include "udev_context.h"

namespace vdev::compat {

class Enumerator {
 public:
  explicit Enumerator(std::shared_ptr<const Context> context) : context_(std::move(context)) {}

  const Context& context() const { return *context_; }

  // Filters; each makes the last scan out of date.
  void AddMatchSubsystem(std::string_view pattern, bool match);
  // value nullopt: the attribute must exist (match) or must not (nomatch), whatever its value;
  // it also drops the values given for that attribute before.
  void AddMatchSysattr(std::string_view name, std::optional<std::string_view> value, bool match);
  // value nullopt adds no alternative: a property filter without values matches nothing.
  void AddMatchProperty(std::string_view pattern, std::optional<std::string_view> value);
  void AddMatchSysname(std::string_view pattern);
  void AddMatchTag(std::string_view tag);
  // Replaces an earlier parent filter (libudev's semantics). devpath is the parent's.
  void SetMatchParent(std::string devpath);
  // Devices with a node or network interface only once the device manager recorded them.
  void MatchIsInitialized();

  // Adds one device to the current result (after a scan; a later scan starts afresh).
  void AddDevice(std::string devpath);

  // Each scans unless the last scan of that kind is up to date. A failing directory is
  // skipped; the scan reports its error after doing the rest.
  [[nodiscard]] Status ScanDevices();
  [[nodiscard]] Status ScanSubsystems();

  // The sorted result; empty unless the last scan is up to date.
  const std::vector<std::string>& devpaths();
  bool scan_uptodate() const { return scan_ != ScanKind::kNone; }

 private:
  enum class ScanKind { kNone, kDevices, kSubsystems };
  using Alternatives = std::pair<std::string, std::vector<std::string>>;

  bool MatchSubsystem(std::string_view subsystem) const;
  bool MatchSysname(std::string_view sysname) const;
  bool MatchParent(std::string_view devpath) const;
  // The filters other than subsystem and sysname; the view loads what they need.
  bool TestMatches(DeviceView& device, bool check_initialized) const;
  bool MatchProperties(DeviceView& device) const;
  bool MatchSysattrs(DeviceView& device) const;

  // Returns whether devpath was new.
  bool Add(std::string devpath);
  void Invalidate() { scan_ = ScanKind::kNone; }
  void Reset();

  Status ScanAll();
  Status ScanTags();
  Status ScanChildren();
  // Scans dir/<entry>[/subdir]/ for each entry passing the subsystem filter (or `subsystem`).
  Status ScanDir(const std::string& dir, const char* subdir, const char* subsystem);
  // Adds the devices in dir/ (entry names filtered by sysname) and their ancestors.
  Status ScanDirAndAddDevices(const std::string& dir);
  void AddAncestors(const std::string& devpath);
  void CrawlChildren(const std::string& devpath, int depth);
  void AddChild(const std::string& devpath);

  std::shared_ptr<const Context> context_;
  std::vector<std::string> match_subsystem_, nomatch_subsystem_, match_sysname_, match_tag_;
  std::vector<Alternatives> match_sysattr_, nomatch_sysattr_, match_property_;
  std::optional<std::string> match_parent_;
  bool match_initialized_ = false;

  ScanKind scan_ = ScanKind::kNone;
  std::vector<std::string> devices_;           // in the order found until sorted
  std::unordered_set<std::string> added_;      // the same, for lookups
  std::unordered_set<std::string> ancestors_;  // directories the ancestor walk has seen
  bool sorted_ = true;
  const std::vector<std::string> none_;
};

}  // namespace vdev::compat
