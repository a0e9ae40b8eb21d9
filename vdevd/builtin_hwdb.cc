// The hwdb builtin (udev's IMPORT{builtin}="hwdb"): ID_VENDOR_FROM_DATABASE,
// ID_MODEL_FROM_DATABASE, KEYBOARD_KEY_*, ... for a device's modalias, from systemd's
// hwdb.bin, opened once and shared by every worker thread.
#include "builtin_hwdb.h"

#include <fcntl.h>
#include <fnmatch.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>

#include "common/hwdb.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "rule.h"

namespace vdev {
namespace {

// udevd asks its builtins whether their configuration changed at most this often.
constexpr auto kRecheckInterval = std::chrono::seconds(3);

// The installed database, opened at the first lookup and replaced when the file changes.
// Lookups hold a shared_ptr: a replaced mapping stays until the last lookup on it is done.
class SharedHwdb {
 public:
  std::shared_ptr<const Hwdb> Get() {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (!checked_ || now - last_check_ >= kRecheckInterval) {
      Refresh();
      checked_ = true;
      last_check_ = now;
    }
    return hwdb_;
  }

  void SetRoot(std::string root) {
    std::lock_guard lock(mutex_);
    root_ = std::move(root);
    hwdb_.reset();
    failed_.reset();
    reported_missing_ = false;
    checked_ = false;
  }

  void Invalidate() {
    std::lock_guard lock(mutex_);
    checked_ = false;
  }

 private:
  // With mutex_ held.
  void Refresh() {
    UniqueFd root(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    auto location = root ? FindInstalledHwdb(root.get()) : FailErrno("open " + root_);
    if (!location) {
      if (hwdb_) LogInfo("hwdb: %s is gone", hwdb_->path().c_str());
      hwdb_.reset();
      if (!reported_missing_)
        LogDebug("hwdb: %s (below %s): the hwdb builtin sets nothing",
                 location.error().Message().c_str(), root_.c_str());
      reported_missing_ = true;
      return;
    }
    reported_missing_ = false;
    if (hwdb_ && hwdb_->path() == location->path &&
        SameFileVersion(hwdb_->file_stat(), location->stat))
      return;
    // A broken file is reported once, and tried again when it changes.
    if (failed_ && SameFileVersion(*failed_, location->stat)) return;
    auto opened = Hwdb::OpenAt(root.get(), location->path);
    if (!opened) {
      LogWarning("hwdb: %s (below %s), ignoring", opened.error().Message().c_str(), root_.c_str());
      failed_ = location->stat;
      hwdb_.reset();
      return;
    }
    failed_.reset();
    LogDebug("hwdb: using %s below %s (%zu bytes)", opened->path().c_str(), root_.c_str(),
             opened->size());
    hwdb_ = std::make_shared<const Hwdb>(std::move(*opened));
  }

  std::mutex mutex_;
  std::string root_ = "/";
  std::shared_ptr<const Hwdb> hwdb_;
  std::optional<struct stat> failed_;
  bool reported_missing_ = false;
  bool checked_ = false;
  std::chrono::steady_clock::time_point last_check_;
};

// Never destroyed: worker threads may still look up while the process exits.
SharedHwdb& Shared() {
  static SharedHwdb* shared = new SharedHwdb;
  return *shared;
}

struct HwdbOptions {
  std::optional<std::string> subsystem, prefix, filter, device;
  std::optional<std::string> key;
};

// The rules split a builtin's arguments on whitespace; udev takes a quoted argument whole
// ('evdev:name:AT Translated Set 2 keyboard:...'). Joins such words again, with one space.
Result<std::vector<std::string>> Unquote(const std::vector<std::string>& args) {
  std::vector<std::string> words;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word.empty() || (word[0] != '\'' && word[0] != '"')) {
      words.push_back(word);
      continue;
    }
    const char quote = word[0];
    std::string joined = word.substr(1);
    while (joined.empty() || joined.back() != quote) {
      if (i + 1 == args.size()) return Fail(EINVAL, "hwdb: unterminated quote in " + word);
      joined += ' ';
      joined += args[++i];
    }
    joined.pop_back();
    words.push_back(std::move(joined));
  }
  return words;
}

// udev's options, spelled as getopt_long takes them: --name=VALUE, --name VALUE, a unique
// abbreviation of the name, -x VALUE, -xVALUE.
Result<HwdbOptions> ParseOptions(const std::vector<std::string>& args) {
  auto words = Unquote(args);
  if (!words) return tl::unexpected(words.error());
  struct Option {
    std::string_view name;
    char letter;
    std::optional<std::string> HwdbOptions::*field;
  };
  static constexpr Option kOptions[] = {
      {"filter", 'f', &HwdbOptions::filter},
      {"device", 'd', &HwdbOptions::device},
      {"subsystem", 's', &HwdbOptions::subsystem},
      {"lookup-prefix", 'p', &HwdbOptions::prefix},
  };
  HwdbOptions options;
  std::vector<std::string> keys;
  bool options_done = false;
  for (size_t i = 0; i < words->size(); ++i) {
    const std::string& word = (*words)[i];
    if (options_done || word.size() < 2 || word[0] != '-') {
      keys.push_back(word);
      continue;
    }
    if (word == "--") {
      options_done = true;
      continue;
    }
    const Option* option = nullptr;
    std::optional<std::string> value;
    if (word[1] == '-') {
      std::string_view name = std::string_view(word).substr(2);
      size_t equals = name.find('=');
      if (equals != std::string_view::npos) {
        value = std::string(name.substr(equals + 1));
        name = name.substr(0, equals);
      }
      int candidates = 0;
      for (const Option& known : kOptions) {
        if (known.name == name) {
          option = &known;
          candidates = 1;
          break;
        }
        if (!name.empty() && known.name.starts_with(name)) {
          option = &known;
          ++candidates;
        }
      }
      if (candidates != 1) return Fail(EINVAL, "hwdb: unknown option " + word);
    } else {
      for (const Option& known : kOptions)
        if (known.letter == word[1]) option = &known;
      if (option == nullptr) return Fail(EINVAL, "hwdb: unknown option " + word);
      if (word.size() > 2) value = word.substr(2);
    }
    if (!value) {
      if (i + 1 == words->size()) return Fail(EINVAL, "hwdb: option " + word + " needs a value");
      value = (*words)[++i];
    }
    options.*(option->field) = std::move(*value);
  }
  // udev reads only the first; a second one here is a key with spaces that lost its quotes.
  if (keys.size() > 1)
    return Fail(EINVAL, "hwdb: more than one key ('" + keys[1] + "'): quote a key with spaces");
  if (!keys.empty()) options.key = std::move(keys[0]);
  return options;
}

// Sets what the database has for key; returns how many properties were set.
Result<size_t> Import(EventState& state, const Hwdb& hwdb, const HwdbOptions& options,
                      std::string_view modalias) {
  std::string key = options.prefix.value_or("");
  key += modalias;
  auto found = hwdb.Lookup(key);
  if (!found) return Fail(found.error().code, "hwdb: " + found.error().Message());
  size_t count = 0;
  for (const auto& [name, value] : *found) {
    if (options.filter && fnmatch(options.filter->c_str(), name.c_str(), FNM_NOESCAPE) != 0)
      continue;
    // The database record is KEY=VALUE lines: nothing may break one, nor overwrite what the
    // daemon relies on.
    if (!IsValidPropertyKey(name) || rule::IsProtectedProperty(name) ||
        value.find_first_of("\n\r") != std::string::npos) {
      LogDebug("%s: hwdb: %s sets %s, ignoring", state.device.devpath().c_str(), key.c_str(),
               name.c_str());
      continue;
    }
    state.properties.Set(name, value);
    ++count;
  }
  return count;
}

std::optional<uint16_t> ParseHex16(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  unsigned value = 0;
  const char* end = text->data() + text->size();
  auto [at, error] = std::from_chars(text->data(), end, value, 16);
  if (error != std::errc() || at != end || value > 0xFFFF) return std::nullopt;
  return static_cast<uint16_t>(value);
}

// What udev looks up for a usb_device, whose uevent has no MODALIAS.
std::optional<std::string> UsbDeviceModalias(const Device& device) {
  auto vendor = ParseHex16(device.Attribute("idVendor"));
  auto product = ParseHex16(device.Attribute("idProduct"));
  if (!vendor || !product) return std::nullopt;
  char modalias[32];
  snprintf(modalias, sizeof(modalias), "usb:v%04Xp%04X*", *vendor, *product);
  return modalias;
}

// udev's walk from the device up: the first ancestor (the device itself first) with a
// MODALIAS that the database knows answers; a usb_device ends the walk.
Status Search(EventState& state, const Hwdb& hwdb, const HwdbOptions& options) {
  std::optional<Device> ancestor;
  const Device* device = &state.device;
  while (device != nullptr) {
    // The event's own device: its properties are the event's, with what rules added.
    const bool own = device == &state.device;
    const Uevent& properties = own ? state.properties : device->properties();
    std::string subsystem(own && !properties.subsystem().empty() ? properties.subsystem()
                                                                 : device->subsystem());
    if (!subsystem.empty() && (!options.subsystem || subsystem == *options.subsystem)) {
      std::optional<std::string> modalias;
      if (auto value = properties.Get("MODALIAS")) modalias = std::string(*value);
      bool last = false;
      if (subsystem == "usb" && properties.devtype() == "usb_device") {
        if (!modalias) modalias = UsbDeviceModalias(*device);
        last = true;  // what lies above is a hub, whose entry says nothing of this device
      }
      if (modalias) {
        auto count = Import(state, hwdb, options, *modalias);
        if (!count) return tl::unexpected(count.error());
        if (*count > 0 || last) return Ok();
      }
    }
    ancestor = device->Parent();
    device = ancestor ? &*ancestor : nullptr;
  }
  return Ok();
}

}  // namespace

Status RunHwdbBuiltin(BuiltinCall& call) {
  auto options = ParseOptions(call.args);
  if (!options) return tl::unexpected(options.error());
  if (options->device) return Fail(EOPNOTSUPP, "hwdb: --device is not supported");
  std::shared_ptr<const Hwdb> hwdb = Shared().Get();
  if (!hwdb) return Ok();
  if (options->key) {
    auto count = Import(call.state, *hwdb, *options, *options->key);
    if (!count) return tl::unexpected(count.error());
    return Ok();
  }
  return Search(call.state, *hwdb, *options);
}

void SetHwdbRoot(std::string root) { Shared().SetRoot(std::move(root)); }

void ReloadHwdb() { Shared().Invalidate(); }

}  // namespace vdev
