// The input_id builtin, after udev 252's udev-builtin-input_id.c: classifies an input device by
// the event types, keys, axes and properties the kernel says it has. libinput, Xorg, the seat
// rules and the by-id/by-path links all key on the ID_INPUT_* it sets.
#include "builtin_input_id.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <charconv>
#include <string>

#include "common/log.h"
#include "common/unique_fd.h"

namespace vdev {
namespace {

constexpr size_t kBitsPerWord = 64;  // the kernel's long on 64-bit systems
constexpr size_t WordsFor(unsigned max_bit) { return max_bit / kBitsPerWord + 1; }

// Key codes above BTN_MISC that make a device a key device: [start, end).
constexpr struct {
  unsigned start, end;
} kHighKeyBlocks[] = {{KEY_OK, BTN_DPAD_UP}, {KEY_ALS_TOGGLE, BTN_TRIGGER_HAPPY}};

class Bitmap {
 public:
  Bitmap(const Device& device, const char* attribute, unsigned max_bit)
      : words_(ParseCapabilityBitmap(device.Attribute(attribute).value_or(""), WordsFor(max_bit))) {
  }

  bool Test(unsigned bit) const {
    size_t word = bit / kBitsPerWord;
    return word < words_.size() && ((words_[word] >> (bit % kBitsPerWord)) & 1) != 0;
  }
  // Whether any bit in [first, end) is set.
  bool Any(unsigned first, unsigned end) const {
    for (unsigned bit = first; bit < end; ++bit)
      if (Test(bit)) return true;
    return false;
  }
  uint64_t Word(size_t index) const { return index < words_.size() ? words_[index] : 0; }

 private:
  std::vector<uint64_t> words_;
};

std::optional<uint64_t> ParseHexWord(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\n\r");
  if (start == std::string_view::npos) return std::nullopt;
  text.remove_prefix(start);
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (error != std::errc() || end == text.data() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

struct Capabilities {
  explicit Capabilities(const Device& input)
      : ev(input, "capabilities/ev", EV_MAX),
        abs(input, "capabilities/abs", ABS_MAX),
        rel(input, "capabilities/rel", REL_MAX),
        key(input, "capabilities/key", KEY_MAX),
        props(input, "properties", INPUT_PROP_MAX) {
    unsigned value = 0;
    std::string text = input.Attribute("id/bustype").value_or("");
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    if (error == std::errc() && end == text.data() + text.size() && value <= 0xffff)
      bustype = value;
  }

  Bitmap ev, abs, rel, key, props;
  unsigned bustype = 0;
};

void Add(std::vector<Property>* out, const char* key) { out->emplace_back(key, "1"); }

// Pointing devices: accelerometers, mice, touchpads, touchscreens, joysticks, tablets.
bool ClassifyPointer(const Capabilities& caps, std::vector<Property>* out) {
  bool has_keys = caps.ev.Test(EV_KEY);
  bool has_abs_coordinates = caps.abs.Test(ABS_X) && caps.abs.Test(ABS_Y);
  bool has_3d_coordinates = has_abs_coordinates && caps.abs.Test(ABS_Z);
  bool is_accelerometer = caps.props.Test(INPUT_PROP_ACCELEROMETER);
  // Three axes and no keys: an accelerometer that does not say so.
  if (!has_keys && has_3d_coordinates) is_accelerometer = true;
  if (is_accelerometer) {
    Add(out, "ID_INPUT_ACCELEROMETER");
    return true;
  }

  bool is_pointing_stick = caps.props.Test(INPUT_PROP_POINTING_STICK);
  bool has_stylus = caps.key.Test(BTN_STYLUS);
  bool has_pen = caps.key.Test(BTN_TOOL_PEN);
  bool finger_but_no_pen = caps.key.Test(BTN_TOOL_FINGER) && !caps.key.Test(BTN_TOOL_PEN);
  bool has_mouse_button = caps.key.Any(BTN_MOUSE, BTN_JOYSTICK);
  bool has_rel_coordinates = caps.ev.Test(EV_REL) && caps.rel.Test(REL_X) && caps.rel.Test(REL_Y);
  bool has_mt_coordinates = caps.abs.Test(ABS_MT_POSITION_X) && caps.abs.Test(ABS_MT_POSITION_Y);
  // A device that claims every axis (some joysticks) has no real multitouch.
  if (has_mt_coordinates && caps.abs.Test(ABS_MT_SLOT) && caps.abs.Test(ABS_MT_SLOT - 1))
    has_mt_coordinates = false;
  bool is_direct = caps.props.Test(INPUT_PROP_DIRECT);
  bool has_touch = caps.key.Test(BTN_TOUCH);
  bool has_pad_buttons = caps.key.Test(BTN_0) && has_stylus && !has_pen;

  // Joysticks may have only axes (pedals) or only buttons. A mouse with more than 16 buttons
  // runs into the joystick range: its last mouse button set means it is no joystick.
  bool has_joystick_axes_or_buttons = false;
  if (!caps.key.Test(BTN_JOYSTICK - 1)) {
    has_joystick_axes_or_buttons = caps.key.Any(BTN_JOYSTICK, BTN_DIGI) ||
                                   caps.key.Any(BTN_TRIGGER_HAPPY1, BTN_TRIGGER_HAPPY40 + 1) ||
                                   caps.key.Any(BTN_DPAD_UP, BTN_DPAD_RIGHT + 1);
  }
  if (!has_joystick_axes_or_buttons)
    has_joystick_axes_or_buttons = caps.abs.Any(ABS_RX, ABS_PRESSURE);

  bool is_tablet = false, is_touchpad = false, is_mouse = false, is_touchscreen = false;
  bool is_joystick = false, is_tablet_pad = false;
  if (has_abs_coordinates) {
    if (has_stylus || has_pen) {
      is_tablet = true;
    } else if (finger_but_no_pen && !is_direct) {
      is_touchpad = true;
    } else if (has_mouse_button) {
      is_mouse = true;  // absolute axes and buttons but no touch: VMware's USB mouse
    } else if (has_touch || is_direct) {
      is_touchscreen = true;
    } else if (has_joystick_axes_or_buttons) {
      is_joystick = true;
    }
  } else if (has_joystick_axes_or_buttons) {
    is_joystick = true;
  }
  if (has_mt_coordinates) {
    if (has_stylus || has_pen) {
      is_tablet = true;
    } else if (finger_but_no_pen && !is_direct) {
      is_touchpad = true;
    } else if (has_touch || is_direct) {
      is_touchscreen = true;
    }
  }
  if (is_tablet && has_pad_buttons) is_tablet_pad = true;
  // Mouse buttons with relative axes, or with no axes at all.
  if (!is_tablet && !is_touchpad && !is_joystick && has_mouse_button &&
      (has_rel_coordinates || !has_abs_coordinates))
    is_mouse = true;
  // There is no such thing as an I2C mouse: it is the pointing stick of a laptop.
  if (is_mouse && caps.bustype == BUS_I2C) is_pointing_stick = true;

  if (is_pointing_stick) Add(out, "ID_INPUT_POINTINGSTICK");
  if (is_mouse) Add(out, "ID_INPUT_MOUSE");
  if (is_touchpad) Add(out, "ID_INPUT_TOUCHPAD");
  if (is_touchscreen) Add(out, "ID_INPUT_TOUCHSCREEN");
  if (is_joystick) Add(out, "ID_INPUT_JOYSTICK");
  if (is_tablet) Add(out, "ID_INPUT_TABLET");
  if (is_tablet_pad) Add(out, "ID_INPUT_TABLET_PAD");
  return is_tablet || is_mouse || is_touchpad || is_touchscreen || is_joystick || is_pointing_stick;
}

// Key devices: any KEY_* code (not BTN_*); a full keyboard has ESC, the digits and Q to D.
bool ClassifyKeys(const Capabilities& caps, std::vector<Property>* out) {
  if (!caps.ev.Test(EV_KEY)) return false;
  bool found = false;
  for (size_t word = 0; word < BTN_MISC / kBitsPerWord && !found; ++word)
    found = caps.key.Word(word) != 0;
  for (const auto& block : kHighKeyBlocks)
    if (!found) found = caps.key.Any(block.start, block.end);
  if (found) Add(out, "ID_INPUT_KEY");
  // The first 32 codes, KEY_RESERVED aside.
  if ((caps.key.Word(0) & 0xfffffffe) == 0xfffffffe) {
    Add(out, "ID_INPUT_KEYBOARD");
    return true;
  }
  return found;
}

// ID_INPUT_WIDTH_MM/HEIGHT_MM from the device's node, if it is there and is this device's: a
// stale node of a reused name must not answer.
void AddNodeSizes(const Device& device, int dev_fd, std::vector<Property>* out) {
  std::string_view devname = device.properties().devname();
  std::optional<dev_t> devnum = device.devnum();
  if (devname.empty() || !devnum) return;
  UniqueFd fd(openat(dev_fd, std::string(devname).c_str(),
                     O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != *devnum) {
    LogDebug("%s: input_id: no node %.*s to read sizes from", device.devpath().c_str(),
             static_cast<int>(devname.size()), devname.data());
    return;
  }
  for (auto& property : InputSizeProperties(fd.get())) out->push_back(std::move(property));
}

}  // namespace

std::vector<uint64_t> ParseCapabilityBitmap(std::string_view text, size_t words) {
  std::vector<uint64_t> bitmap(words, 0);
  size_t index = 0;
  // From the right: the last word printed is bits 0..63.
  for (;;) {
    size_t space = text.rfind(' ');
    std::string_view word = space == std::string_view::npos ? text : text.substr(space + 1);
    if (auto value = ParseHexWord(word); value && index < words) bitmap[index] = *value;
    ++index;
    if (space == std::string_view::npos) break;
    text = text.substr(0, space);
  }
  return bitmap;
}

std::vector<Property> InputIdProperties(const Device& device, int dev_fd) {
  std::vector<Property> out;
  // The capabilities live on the inputN device; eventN, mouseN and jsN are its children.
  std::optional<Device> input = device;
  while (input && !input->Attribute("capabilities/ev")) {
    std::optional<Device> parent = input->Parent();
    while (parent && parent->subsystem() != "input") parent = parent->Parent();
    input = std::move(parent);
  }
  if (!input) return out;

  out.emplace_back("ID_INPUT", "1");
  Capabilities caps(*input);
  bool is_pointer = ClassifyPointer(caps, &out);
  bool is_key = ClassifyKeys(caps, &out);
  // Some evdev nodes have only a scroll wheel.
  if (!is_pointer && !is_key && caps.ev.Test(EV_REL) &&
      (caps.rel.Test(REL_WHEEL) || caps.rel.Test(REL_HWHEEL)))
    Add(&out, "ID_INPUT_KEY");
  if (caps.ev.Test(EV_SW)) Add(&out, "ID_INPUT_SWITCH");
  if (dev_fd >= 0 && device.sysname().starts_with("event")) AddNodeSizes(device, dev_fd, &out);
  return out;
}

std::vector<Property> InputSizeProperties(const input_absinfo& x, const input_absinfo& y) {
  std::vector<Property> out;
  if (x.resolution <= 0 || y.resolution <= 0) return out;
  // ABS_X/ABS_Y resolutions are in units per millimetre.
  out.emplace_back("ID_INPUT_WIDTH_MM", std::to_string((x.maximum - x.minimum) / x.resolution));
  out.emplace_back("ID_INPUT_HEIGHT_MM", std::to_string((y.maximum - y.minimum) / y.resolution));
  return out;
}

std::vector<Property> InputSizeProperties(int evdev_fd) {
  input_absinfo x{}, y{};
  if (ioctl(evdev_fd, EVIOCGABS(ABS_X), &x) < 0 || ioctl(evdev_fd, EVIOCGABS(ABS_Y), &y) < 0)
    return {};
  return InputSizeProperties(x, y);
}

Status RunInputIdBuiltin(BuiltinCall& call) {
  EventState& state = call.state;
  for (const auto& [key, value] : InputIdProperties(state.device, state.dev_fd))
    state.properties.Set(key, value);
  return Ok();
}

}  // namespace vdev
