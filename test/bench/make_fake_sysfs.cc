// make-fake-sysfs: builds a plausible fake sysfs of N devices (disks with partitions, loop
// devices, ttys, input, sound, mem/misc, network interfaces, PCI and USB parents) and,
// optionally, a replay file of M events over it, for benchmarks and no-root demos.
//
//   make-fake-sysfs DIR --devices N [--events FILE --count M] [--seed S] [--modalias]
//
// The replay starts with an "add" of every device (parents first), then a deterministic
// mix of change, remove (children first) and re-add, and ends by re-adding whatever is
// still removed: after the last event every device is present again, with the properties
// (DISKSEQ) that the tree's uevent files hold.
//
// MODALIAS is left out unless --modalias is given: a daemon replaying these events as root
// would otherwise load real kernel modules for devices that do not exist.
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fixtures/fake_sysfs.h"

namespace vdev {
namespace {

using testing::FakeDevice;
using testing::FakeSysfs;
using Properties = std::vector<std::pair<std::string, std::string>>;

enum class Kind { kOther, kDisk, kLoop };

struct Device {
  FakeDevice spec;
  int parent = -1;  // index of the nearest ancestor that is a device; -1 for none
  Kind kind = Kind::kOther;
  bool present = true;
  std::vector<int> children;
};

std::string Hex(unsigned value, int width) {
  char buffer[16];
  snprintf(buffer, sizeof(buffer), "%0*x", width, value);
  return buffer;
}

std::string Dec(unsigned value, int width) {
  char buffer[16];
  snprintf(buffer, sizeof(buffer), "%0*u", width, value);
  return buffer;
}

// The kernel's disk naming: a..z, aa..zz, aaa...
std::string DiskLetters(unsigned index) {
  std::string name;
  long i = index;
  do {
    name.insert(name.begin(), static_cast<char>('a' + i % 26));
    i = i / 26 - 1;
  } while (i >= 0);
  return name;
}

void SetProperty(Properties& properties, const std::string& key, const std::string& value) {
  for (auto& [name, old] : properties) {
    if (name == key) {
      old = value;
      return;
    }
  }
  properties.emplace_back(key, value);
}

// Builds the device list in creation order, which is parents-first, until the budget of
// devices (those with a subsystem, the ones coldplug reports) is spent.
class Generator {
 public:
  Generator(size_t budget, bool modalias) : budget_(budget), modalias_(modalias) {}

  void Generate() {
    // Parents with a uevent file but no subsystem: the walk enters them, reports nothing.
    glue_.push_back({"/devices/pci0000:00", "", false, "", {}, {}});
    glue_.push_back({"/devices/platform", "", false, "", {}, {}});
    for (auto [name, minor] : std::initializer_list<std::pair<const char*, unsigned>>{
             {"null", 3}, {"zero", 5}, {"full", 7}, {"random", 8}, {"urandom", 9}, {"kmsg", 11}}) {
      if (Node(-1, "/devices/virtual/mem/" + std::string(name), "mem", false, "", 1, minor, name,
               {}) < 0)
        return;
    }
    for (auto [name, minor] :
         std::initializer_list<std::pair<const char*, unsigned>>{{"fuse", 229},
                                                                 {"loop-control", 237},
                                                                 {"rfkill", 242},
                                                                 {"uinput", 223},
                                                                 {"vga_arbiter", 127},
                                                                 {"hpet", 228},
                                                                 {"autofs", 235},
                                                                 {"cpu_dma_latency", 62}}) {
      if (Node(-1, "/devices/virtual/misc/" + std::string(name), "misc", false, "", 10, minor, name,
               {}) < 0)
        return;
    }
    if (Plain(-1, "/devices/virtual/net/lo", "net", false, "",
              {{"INTERFACE", "lo"}, {"IFINDEX", std::to_string(next_ifindex_++)}},
              {{"address", "00:00:00:00:00:00"}, {"type", "772"}, {"mtu", "65536"}}) < 0)
      return;

    // A repeating pattern gives the mix: a third block devices, the rest spread out.
    static constexpr const char kPattern[] = "dltindltusdltinlstdlti";
    for (size_t step = 0; Left() > 0; ++step) {
      bool added = false;
      switch (kPattern[step % (sizeof(kPattern) - 1)]) {
        case 'd':
          added = Disk();
          break;
        case 'l':
          added = Loop();
          break;
        case 't':
          added = Tty();
          break;
        case 'i':
          added = Input();
          break;
        case 'n':
          added = Net();
          break;
        case 'u':
          added = Usb();
          break;
        case 's':
          added = Sound();
          break;
      }
      if (!added && Left() > 0) added = Loop();  // a group too big for what is left
      if (!added) break;
    }
  }

  std::vector<Device>& devices() { return devices_; }
  const std::vector<FakeDevice>& glue() const { return glue_; }
  uint64_t NextDiskseq() { return next_diskseq_++; }

 private:
  size_t Left() const { return budget_ - devices_.size(); }

  // Adds a device; returns its index, or -1 when the budget is spent.
  int Plain(int parent, const std::string& devpath, const std::string& subsystem, bool bus,
            const std::string& driver, Properties uevent, Properties attributes,
            Kind kind = Kind::kOther) {
    if (Left() == 0) return -1;
    if (!driver.empty()) uevent.emplace_back("DRIVER", driver);  // as the kernel's file has
    if (!modalias_) std::erase_if(uevent, [](const auto& p) { return p.first == "MODALIAS"; });
    Device device;
    device.spec = {devpath, subsystem, bus, driver, std::move(uevent), std::move(attributes)};
    device.parent = parent;
    device.kind = kind;
    devices_.push_back(std::move(device));
    int index = static_cast<int>(devices_.size()) - 1;
    if (parent >= 0) devices_[parent].children.push_back(index);
    return index;
  }

  int Node(int parent, const std::string& devpath, const std::string& subsystem, bool bus,
           const std::string& driver, unsigned major, unsigned minor, const std::string& devname,
           Properties extra, Properties attributes = {}, Kind kind = Kind::kOther) {
    Properties uevent = {
        {"MAJOR", std::to_string(major)}, {"MINOR", std::to_string(minor)}, {"DEVNAME", devname}};
    uevent.insert(uevent.end(), extra.begin(), extra.end());
    return Plain(parent, devpath, subsystem, bus, driver, std::move(uevent), std::move(attributes),
                 kind);
  }

  // A PCI function on the root bus (or the next buses once 256 slots are used).
  int Pci(const std::string& driver, unsigned pci_class, const std::string& id,
          std::string* devpath) {
    unsigned n = next_pci_++;
    std::string address =
        "0000:" + Hex(n / 256, 2) + ":" + Hex((n % 256) / 8, 2) + "." + Hex(n % 8, 1);
    *devpath = "/devices/pci0000:00/" + address;
    return Plain(
        -1, *devpath, "pci", true, driver,
        {{"PCI_CLASS", Hex(pci_class, 1)},
         {"PCI_ID", id},
         {"PCI_SUBSYS_ID", "1AF4:1100"},
         {"PCI_SLOT_NAME", address},
         {"MODALIAS", "pci:v0000" + id.substr(0, 4) + "d0000" + id.substr(5) +
                          "sv00001AF4sd00001100bc" + Hex(pci_class >> 16, 2) + "sc" +
                          Hex((pci_class >> 8) & 0xff, 2) + "i" + Hex(pci_class & 0xff, 2)}},
        {{"vendor", "0x" + id.substr(0, 4)}, {"device", "0x" + id.substr(5)}});
  }

  // virtio-blk disk with 0-3 partitions: pci -> virtio -> block/vdX -> vdXN.
  bool Disk() {
    if (Left() < 3) return false;
    unsigned n = next_disk_++;
    std::string pci_path;
    int pci = Pci("virtio-pci", 0x010000, "1AF4:1001", &pci_path);
    std::string virtio_path = pci_path + "/virtio" + std::to_string(next_virtio_++);
    int virtio = Plain(pci, virtio_path, "virtio", true, "virtio_blk",
                       {{"MODALIAS", "virtio:d00000002v00001AF4"}}, {});
    std::string name = "vd" + DiskLetters(n);
    std::string disk_path = virtio_path + "/block/" + name;
    unsigned sectors = 2097152 * (1 + n % 8);
    int disk =
        Node(virtio, disk_path, "block", false, "", 254, n * 16, name,
             {{"DEVTYPE", "disk"}, {"DISKSEQ", std::to_string(NextDiskseq())}},
             {{"size", std::to_string(sectors)}, {"ro", "0"}, {"removable", "0"}}, Kind::kDisk);
    if (disk < 0) return true;
    unsigned partitions = n % 4;
    for (unsigned p = 1; p <= partitions; ++p) {
      std::string part = name + std::to_string(p);
      unsigned size = sectors / (partitions + 1);
      if (Node(disk, disk_path + "/" + part, "block", false, "", 254, n * 16 + p, part,
               {{"DEVTYPE", "partition"}, {"PARTN", std::to_string(p)}},
               {{"partition", std::to_string(p)},
                {"start", std::to_string(2048 + (p - 1) * size)},
                {"size", std::to_string(size)}}) < 0)
        break;
    }
    return true;
  }

  bool Loop() {
    unsigned n = next_loop_++;
    std::string name = "loop" + std::to_string(n);
    return Node(-1, "/devices/virtual/block/" + name, "block", false, "", 7, n, name,
                {{"DEVTYPE", "disk"}, {"DISKSEQ", std::to_string(NextDiskseq())}},
                {{"size", "0"}, {"ro", "0"}, {"removable", "0"}}, Kind::kLoop) >= 0;
  }

  bool Tty() {
    unsigned n = next_tty_++;
    std::string name = "tty" + std::to_string(n);
    return Node(-1, "/devices/virtual/tty/" + name, "tty", false, "", 4, n, name, {}) >= 0;
  }

  // An input device and its event node.
  bool Input() {
    if (Left() < 2) return false;
    unsigned n = next_input_++;
    std::string path = "/devices/virtual/input/input" + std::to_string(n);
    int input = Plain(-1, path, "input", false, "",
                      {{"PRODUCT", "3/1d6b/104/100"},
                       {"NAME", "\"Fake Keyboard " + std::to_string(n) + "\""},
                       {"PROP", "0"},
                       {"EV", "120013"},
                       {"KEY", "e080ffdf01cfffff fffffffffffffffe"},
                       {"MSC", "10"},
                       {"MODALIAS", "input:b0003v1D6Bp0104e0100-e0,1,4,11,14,k71,72,ramlsfw"}},
                      {{"name", "Fake Keyboard " + std::to_string(n)}});
    unsigned minor = n < 32 ? 64 + n : 256 + n;
    std::string event = "event" + std::to_string(n);
    Node(input, path + "/" + event, "input", false, "", 13, minor, "input/" + event, {});
    return true;
  }

  // A network interface on its own PCI function; interfaces have no device node.
  bool Net() {
    if (Left() < 2) return false;
    std::string pci_path;
    int pci = Pci("e1000e", 0x020000, "8086:10D3", &pci_path);
    unsigned n = next_net_++;
    std::string name = "eth" + std::to_string(n);
    Plain(pci, pci_path + "/net/" + name, "net", false, "",
          {{"INTERFACE", name}, {"IFINDEX", std::to_string(next_ifindex_++)}},
          {{"address", "52:54:00:" + Hex((n >> 16) & 0xff, 2) + ":" + Hex((n >> 8) & 0xff, 2) +
                           ":" + Hex(n & 0xff, 2)},
           {"type", "1"},
           {"mtu", "1500"}});
    return true;
  }

  // A USB device with one interface, on a root hub behind an xHCI controller (a new
  // controller every 100 devices).
  bool Usb() {
    if (Left() < 2) return false;
    if (usb_hub_ < 0 || usb_port_ >= 100) {
      if (Left() < 4) return false;
      std::string pci_path;
      int pci = Pci("xhci_hcd", 0x0c0330, "8086:A36D", &pci_path);
      ++usb_bus_;
      usb_port_ = 0;
      usb_hub_path_ = pci_path + "/usb" + std::to_string(usb_bus_);
      usb_hub_ = Node(pci, usb_hub_path_, "usb", true, "usb", 189, (usb_bus_ - 1) * 128,
                      "bus/usb/" + Dec(usb_bus_, 3) + "/001",
                      {{"DEVTYPE", "usb_device"},
                       {"PRODUCT", "1d6b/2/606"},
                       {"TYPE", "9/0/1"},
                       {"BUSNUM", Dec(usb_bus_, 3)},
                       {"DEVNUM", "001"}},
                      {{"idVendor", "1d6b"}, {"idProduct", "0002"}});
    }
    unsigned port = ++usb_port_;
    std::string devnum = Dec(port + 1, 3);
    std::string name = std::to_string(usb_bus_) + "-" + std::to_string(port);
    std::string path = usb_hub_path_ + "/" + name;
    int device = Node(usb_hub_, path, "usb", true, "usb", 189, (usb_bus_ - 1) * 128 + port,
                      "bus/usb/" + Dec(usb_bus_, 3) + "/" + devnum,
                      {{"DEVTYPE", "usb_device"},
                       {"PRODUCT", "46d/c52b/1211"},
                       {"TYPE", "0/0/0"},
                       {"BUSNUM", Dec(usb_bus_, 3)},
                       {"DEVNUM", devnum}},
                      {{"idVendor", "046d"},
                       {"idProduct", "c52b"},
                       {"manufacturer", "Logitech"},
                       {"product", "USB Receiver"},
                       {"serial", "FAKE" + Dec(usb_bus_ * 1000 + port, 8)}});
    if (device >= 0) {
      Plain(device, path + "/" + name + ":1.0", "usb", true, "usbhid",
            {{"DEVTYPE", "usb_interface"},
             {"PRODUCT", "46d/c52b/1211"},
             {"TYPE", "0/0/0"},
             {"INTERFACE", "3/1/1"},
             {"MODALIAS", "usb:v046DpC52Bd1211dc00dsc00dp00ic03isc01ip01in00"}},
            {});
    }
    return true;
  }

  // A sound card (no node) with its control and two PCM nodes.
  bool Sound() {
    if (Left() < 5) return false;
    std::string pci_path;
    int pci = Pci("snd_hda_intel", 0x040300, "8086:293E", &pci_path);
    unsigned card = next_card_++;
    std::string c = std::to_string(card);
    std::string card_path = pci_path + "/sound/card" + c;
    int parent =
        Plain(pci, card_path, "sound", false, "", {}, {{"id", "Intel" + c}, {"number", c}});
    Node(parent, card_path + "/controlC" + c, "sound", false, "", 116, next_sound_minor_++,
         "snd/controlC" + c, {});
    Node(parent, card_path + "/pcmC" + c + "D0p", "sound", false, "", 116, next_sound_minor_++,
         "snd/pcmC" + c + "D0p", {});
    Node(parent, card_path + "/pcmC" + c + "D0c", "sound", false, "", 116, next_sound_minor_++,
         "snd/pcmC" + c + "D0c", {});
    return true;
  }

  size_t budget_;
  bool modalias_;
  std::vector<Device> devices_;
  std::vector<FakeDevice> glue_;
  unsigned next_pci_ = 0, next_virtio_ = 0, next_disk_ = 0, next_loop_ = 0, next_tty_ = 0;
  unsigned next_input_ = 0, next_net_ = 0, next_card_ = 0, next_sound_minor_ = 2;
  unsigned next_ifindex_ = 1;
  uint64_t next_diskseq_ = 1;
  int usb_hub_ = -1;
  unsigned usb_bus_ = 0, usb_port_ = 0;
  std::string usb_hub_path_;
};

class ReplayWriter {
 public:
  ReplayWriter(FILE* out, std::vector<Device>& devices, Generator& generator)
      : out_(out), devices_(devices), generator_(generator) {}

  void Write(const char* action, Device& device) {
    fprintf(out_, "ACTION=%s\nDEVPATH=%s\nSUBSYSTEM=%s\n", action, device.spec.devpath.c_str(),
            device.spec.subsystem.c_str());
    for (const auto& [key, value] : device.spec.uevent)
      fprintf(out_, "%s=%s\n", key.c_str(), value.c_str());
    fprintf(out_, "SEQNUM=%llu\n\n", static_cast<unsigned long long>(++seqnum_));
    ++written_;
  }

  // again: the device was removed before; a disk that comes back is a new medium, and the
  // kernel gives it a new DISKSEQ.
  void Add(int index, bool again) {
    Device& device = devices_[index];
    if (again && device.kind != Kind::kOther)
      SetProperty(device.spec.uevent, "DISKSEQ", std::to_string(generator_.NextDiskseq()));
    device.present = true;
    Write("add", device);
  }

  void Change(int index) {
    Device& device = devices_[index];
    // A loop device's "change" is usually a new backing file: a new DISKSEQ.
    if (device.kind == Kind::kLoop)
      SetProperty(device.spec.uevent, "DISKSEQ", std::to_string(generator_.NextDiskseq()));
    Write("change", device);
  }

  // Removes the device and its present descendants, deepest first, as the kernel does.
  void RemoveTree(int index) {
    for (int child : devices_[index].children)
      if (devices_[child].present) RemoveTree(child);
    devices_[index].present = false;
    Write("remove", devices_[index]);
  }

  size_t PresentTreeSize(int index) const {
    size_t size = 1;
    for (int child : devices_[index].children)
      if (devices_[child].present) size += PresentTreeSize(child);
    return size;
  }

  size_t written() const { return written_; }

 private:
  FILE* out_;
  std::vector<Device>& devices_;
  Generator& generator_;
  uint64_t seqnum_ = 0;
  size_t written_ = 0;
};

// Writes count events (at least one add per device) and leaves every device present.
void WriteReplay(FILE* out, Generator& generator, size_t count, uint64_t seed) {
  std::vector<Device>& devices = generator.devices();
  ReplayWriter writer(out, devices, generator);
  for (size_t i = 0; i < devices.size(); ++i) writer.Add(static_cast<int>(i), false);
  if (devices.empty()) return;

  std::mt19937_64 random(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(random() % n); };
  auto pick_device = [&](bool present) {
    for (;;) {
      int index = static_cast<int>(pick(devices.size()));
      if (devices[index].present == present) return index;
    }
  };
  size_t removed = 0;  // devices that still need their final re-add
  while (writer.written() + removed < count) {
    size_t room = count - writer.written() - removed;
    size_t roll = pick(10);
    if (roll < 1 && removed < devices.size()) {
      // Remove a device with its subtree, if the re-adds still fit in the count.
      // Whole controllers (a PCI function with its subtree) are unplugged only rarely.
      int index = pick_device(true);
      size_t size = writer.PresentTreeSize(index);
      if (2 * size <= room && (size <= 4 || pick(20) == 0)) {
        writer.RemoveTree(index);
        removed += size;
        continue;
      }
    }
    if ((roll < 2 && removed > 0) || removed == devices.size()) {
      // Bring back a removed device, or its topmost removed ancestor.
      int index = pick_device(false);
      while (devices[index].parent >= 0 && !devices[devices[index].parent].present)
        index = devices[index].parent;
      writer.Add(index, true);
      --removed;
      continue;
    }
    writer.Change(pick_device(true));
  }
  // Creation order is parents-first, so this brings every tree back top-down.
  for (size_t i = 0; i < devices.size(); ++i)
    if (!devices[i].present) writer.Add(static_cast<int>(i), true);
}

[[noreturn]] void Usage(const char* message) {
  if (message) fprintf(stderr, "make-fake-sysfs: %s\n", message);
  fprintf(stderr,
          "usage: make-fake-sysfs DIR --devices N [--events FILE --count M] [--seed S]\n"
          "                       [--modalias]\n"
          "  builds a fake sysfs of N devices in DIR (created if missing, must be empty)\n"
          "  and a replay file of M events (at least N: one add per device first);\n"
          "  --modalias adds MODALIAS properties (a root daemon would load modules)\n");
  exit(2);
}

std::optional<unsigned long long> ParseCount(const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') return std::nullopt;
  return value;
}

int Main(int argc, char** argv) {
  std::string dir, events_file;
  std::optional<unsigned long long> devices, count;
  unsigned long long seed = 1;
  bool modalias = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Usage(("missing value for " + std::string(arg)).c_str());
      return argv[++i];
    };
    if (arg == "--devices") {
      if (!(devices = ParseCount(value()))) Usage("--devices needs a number");
    } else if (arg == "--count") {
      if (!(count = ParseCount(value()))) Usage("--count needs a number");
    } else if (arg == "--seed") {
      auto parsed = ParseCount(value());
      if (!parsed) Usage("--seed needs a number");
      seed = *parsed;
    } else if (arg == "--modalias") {
      modalias = true;
    } else if (arg == "--events") {
      events_file = value();
    } else if (arg == "-h" || arg == "--help") {
      Usage(nullptr);
    } else if (arg.starts_with("-") || !dir.empty()) {
      Usage(("unexpected argument " + std::string(arg)).c_str());
    } else {
      dir = arg;
    }
  }
  if (dir.empty() || !devices) Usage("DIR and --devices are required");
  if (count && events_file.empty()) Usage("--count needs --events");

  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error || !std::filesystem::is_empty(dir, error) || error) {
    fprintf(stderr, "make-fake-sysfs: %s must be an empty directory\n", dir.c_str());
    return 1;
  }

  Generator generator(*devices, modalias);
  generator.Generate();
  std::vector<Device>& list = generator.devices();

  size_t events = 0;
  if (!events_file.empty()) {
    FILE* out = events_file == "-" ? stdout : fopen(events_file.c_str(), "we");
    if (!out) {
      fprintf(stderr, "make-fake-sysfs: %s: %s\n", events_file.c_str(), strerror(errno));
      return 1;
    }
    size_t wanted = count ? std::max<size_t>(*count, list.size()) : list.size();
    WriteReplay(out, generator, wanted, seed);
    events = wanted;
    if (out != stdout && fclose(out) != 0) {
      fprintf(stderr, "make-fake-sysfs: writing %s: %s\n", events_file.c_str(), strerror(errno));
      return 1;
    }
  }

  // Written after the replay so the uevent files hold each device's final properties.
  FakeSysfs sysfs(dir);
  for (const FakeDevice& glue : generator.glue()) sysfs.Add(glue);
  size_t nodes = 0;
  for (const Device& device : list) {
    sysfs.Add(device.spec);
    for (const auto& [key, value] : device.spec.uevent) nodes += key == "DEVNAME";
  }
  fprintf(events_file == "-" ? stderr : stdout,
          "make-fake-sysfs: %zu devices (%zu with nodes) in %s", list.size(), nodes, dir.c_str());
  if (!events_file.empty())
    fprintf(events_file == "-" ? stderr : stdout, ", %zu events in %s", events,
            events_file.c_str());
  fprintf(events_file == "-" ? stderr : stdout, "\n");
  return 0;
}

}  // namespace
}  // namespace vdev

int main(int argc, char** argv) {
  try {
    return vdev::Main(argc, argv);
  } catch (const std::exception& e) {  // the FakeSysfs fixture throws on I/O errors
    fprintf(stderr, "make-fake-sysfs: %s\n", e.what());
    return 1;
  }
}
