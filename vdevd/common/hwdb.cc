#include "common/hwdb.h"

#include <endian.h>
#include <fnmatch.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "common/unique_fd.h"

namespace vdev {
namespace {

// The on-disk layout (all integers little endian), as systemd's hwdb-internal.h describes it.
// Records may grow in later versions: the header gives each record's size, and a reader
// uses the fields it knows at the start of each record.
//
// header: signature[8] "KSLPHHRH", tool_version, file_size, header_size, node_size,
//   child_entry_size, value_entry_size, nodes_root_off, nodes_len, strings_len (u64 each);
//   the file is the header, then nodes_len bytes of nodes, then strings_len bytes of
//   NUL-terminated strings.
// node: prefix_off u64 (the node's key text after the parent's edge character),
//   children_count u8, 7 padding bytes, values_count u64; followed by children_count child
//   entries sorted by character, then values_count value entries.
// child entry: c u8, 7 padding bytes, child_off u64.
// value entry v1: key_off u64 (" NAME": properties begin with a space), value_off u64;
//   v2 adds filename_off u64, line_number u32, file_priority u16, padding u16.
constexpr char kSignature[8] = {'K', 'S', 'L', 'P', 'H', 'H', 'R', 'H'};
constexpr uint64_t kHeaderSize = 80;
constexpr uint64_t kNodeSize = 24;
constexpr uint64_t kChildSize = 16;
constexpr uint64_t kValueSize = 16;
constexpr uint64_t kValue2Size = 32;
// Far beyond any record systemd writes, and small enough that no product below overflows.
constexpr uint64_t kMaxRecordSize = 4096;
// A glob assembled from the trie: systemd's own limit is LINE_MAX (2048). Longer means a
// corrupt file (for instance a child offset pointing back up the trie).
constexpr size_t kMaxPattern = 4096;

uint64_t Le64(const char* at) {
  uint64_t value;
  memcpy(&value, at, sizeof(value));
  return le64toh(value);
}
uint32_t Le32(const char* at) {
  uint32_t value;
  memcpy(&value, at, sizeof(value));
  return le32toh(value);
}
uint16_t Le16(const char* at) {
  uint16_t value;
  memcpy(&value, at, sizeof(value));
  return le16toh(value);
}

bool IsGlob(char c) { return c == '*' || c == '?' || c == '['; }

}  // namespace

void Hwdb::Unmapper::operator()(const char* map) const { munmap(const_cast<char*>(map), length); }

// One lookup: the trie walk of sd_hwdb (a literal descent along the modalias, and an
// fnmatch over every subtree that hangs below a glob character), with every offset checked.
class Hwdb::Search {
 public:
  Search(const Hwdb& hwdb, std::string_view modalias)
      : hwdb_(hwdb),
        map_(hwdb.map_.get()),
        key_(modalias),
        v2_(hwdb.value_size_ >= kValue2Size),
        max_visits_((hwdb.nodes_end_ - hwdb.nodes_begin_) / hwdb.node_size_ + 1) {}

  struct Node {
    uint64_t off;
    std::string_view prefix;
    uint8_t children;
    uint64_t values;
  };
  struct Child {
    uint8_t c;
    uint64_t off;
  };
  // A property as found, with what decides between two entries that set it.
  struct Found {
    std::string_view key;
    std::string_view value;
    uint64_t filename_off;
    uint32_t line;
    uint16_t priority;
  };
  struct Frame {
    Node node;
    unsigned next_child;
    size_t pattern_length;  // to restore when the frame is left
  };

  Status Run();
  std::vector<Property> TakeProperties();
  // The node record at off, with its arrays and prefix checked to lie inside their sections.
  Result<Node> ReadNode(uint64_t off) const;

 private:
  static tl::unexpected<Error> Corrupt(const std::string& what) {
    return Fail(EBADMSG, "hwdb lookup: " + what);
  }
  Result<std::string_view> String(uint64_t off) const;
  Child ChildAt(const Node& node, unsigned index) const;
  // The child reached through character c, nullopt when there is none (binary search: the
  // entries are sorted, and a corrupt order only gives a wrong answer).
  std::optional<uint64_t> FindChild(const Node& node, uint8_t c) const;
  // fnmatch of every key in the subtree at off (its prefix from skip on, after pattern_)
  // against the modalias from position pos.
  Status Walk(uint64_t off, size_t skip, size_t pos);
  Status AddValues(const Node& node);

  const Hwdb& hwdb_;
  const char* map_;
  std::string key_;  // NUL-terminated for fnmatch
  bool v2_;
  uint64_t max_visits_;  // a tree walk visits each node once at most; more means a cycle
  std::string pattern_;
  std::vector<Frame> stack_;
  std::vector<Found> found_;
};

auto Hwdb::Search::ReadNode(uint64_t off) const -> Result<Node> {
  const Hwdb& h = hwdb_;
  if (off < h.nodes_begin_ || off > h.nodes_end_ - h.node_size_)
    return Corrupt("node offset " + std::to_string(off) + " outside the node section");
  const char* record = map_ + off;
  Node node{off, {}, static_cast<uint8_t>(record[8]), Le64(record + 16)};
  uint64_t arrays = off + h.node_size_;
  uint64_t children_end = arrays + node.children * h.child_size_;
  if (children_end > h.nodes_end_)
    return Corrupt("children of node " + std::to_string(off) + " run past the node section");
  if (node.values > (h.nodes_end_ - children_end) / h.value_size_)
    return Corrupt("values of node " + std::to_string(off) + " run past the node section");
  uint64_t prefix_off = Le64(record);
  // Offset 0 (the header) means no prefix, as in sd-hwdb; systemd's writer gives the root
  // an empty string instead.
  if (prefix_off != 0) {
    auto prefix = String(prefix_off);
    if (!prefix) return tl::unexpected(prefix.error());
    node.prefix = *prefix;
  }
  return node;
}

Result<std::string_view> Hwdb::Search::String(uint64_t off) const {
  if (off < hwdb_.strings_begin_ || off >= hwdb_.size_)
    return Corrupt("string offset " + std::to_string(off) + " outside the string section");
  // The section ends in NUL (checked when opened), so strlen stays inside the file.
  return std::string_view(map_ + off);
}

auto Hwdb::Search::ChildAt(const Node& node, unsigned index) const -> Child {
  const char* entry = map_ + node.off + hwdb_.node_size_ + index * hwdb_.child_size_;
  return Child{static_cast<uint8_t>(entry[0]), Le64(entry + 8)};
}

std::optional<uint64_t> Hwdb::Search::FindChild(const Node& node, uint8_t c) const {
  unsigned low = 0, high = node.children;
  while (low < high) {
    unsigned middle = low + (high - low) / 2;
    Child child = ChildAt(node, middle);
    if (child.c == c) return child.off;
    if (child.c < c)
      low = middle + 1;
    else
      high = middle;
  }
  return std::nullopt;
}

Status Hwdb::Search::AddValues(const Node& node) {
  const Hwdb& h = hwdb_;
  uint64_t first = node.off + h.node_size_ + node.children * h.child_size_;
  for (uint64_t i = 0; i < node.values; ++i) {
    const char* entry = map_ + first + i * h.value_size_;
    auto key = String(Le64(entry));
    if (!key) return tl::unexpected(key.error());
    auto value = String(Le64(entry + 8));
    if (!value) return tl::unexpected(value.error());
    // Only " NAME" entries are properties; other prefixes are reserved for extensions.
    if (key->empty() || key->front() != ' ') continue;
    Found found{key->substr(1), *value, 0, 0, 0};
    if (v2_) {
      found.filename_off = Le64(entry + 16);
      found.line = Le32(entry + 24);
      found.priority = Le16(entry + 28);
    }
    auto same = std::find_if(found_.begin(), found_.end(),
                             [&](const Found& old) { return old.key == found.key; });
    if (same == found_.end()) {
      found_.push_back(found);
      continue;
    }
    // systemd's rule: files without priorities (older writers) are ordered by the offset
    // of their name, which follows the order they were read in; ties go to the later entry.
    if (v2_) {
      bool lower = found.priority == 0
                       ? found.filename_off < same->filename_off ||
                             (found.filename_off == same->filename_off && found.line < same->line)
                       : found.priority < same->priority ||
                             (found.priority == same->priority && found.line < same->line);
      if (lower) continue;
    }
    *same = found;  // keeps its place in the order
  }
  return Ok();
}

Status Hwdb::Search::Walk(uint64_t off, size_t skip, size_t pos) {
  // Iterative, so a deep (or corrupt) trie cannot exhaust a worker thread's stack. Children
  // are visited before a node's own values are matched, in the order systemd does.
  uint64_t visits = 1;
  auto root = ReadNode(off);
  if (!root) return tl::unexpected(root.error());
  stack_.clear();
  stack_.push_back(Frame{*root, 0, pattern_.size()});
  pattern_.append(root->prefix.substr(std::min(skip, root->prefix.size())));
  const char* search = key_.c_str() + pos;
  while (!stack_.empty()) {
    Frame& frame = stack_.back();
    if (frame.next_child < frame.node.children) {
      Child child = ChildAt(frame.node, frame.next_child++);
      if (++visits > max_visits_) return Corrupt("the trie has a cycle");
      auto node = ReadNode(child.off);
      if (!node) return tl::unexpected(node.error());
      size_t length = pattern_.size();
      if (length + 1 + node->prefix.size() > kMaxPattern) return Corrupt("a key is too long");
      pattern_.push_back(static_cast<char>(child.c));
      pattern_.append(node->prefix);
      stack_.push_back(Frame{*node, 0, length});  // frame is not used after this
      continue;
    }
    if (frame.node.values > 0 && fnmatch(pattern_.c_str(), search, 0) == 0) {
      Status added = AddValues(frame.node);
      if (!added) return added;
    }
    pattern_.resize(frame.pattern_length);
    stack_.pop_back();
  }
  return Ok();
}

Status Hwdb::Search::Run() {
  uint64_t off = hwdb_.root_off_;
  size_t i = 0;
  for (;;) {
    auto node = ReadNode(off);
    if (!node) return tl::unexpected(node.error());
    // The node's prefix is literal text until its first glob character; from there on the
    // rest of the subtree is matched with fnmatch.
    const std::string_view prefix = node->prefix;
    for (size_t p = 0; p < prefix.size(); ++p) {
      if (IsGlob(prefix[p])) {
        pattern_.clear();
        return Walk(off, p, i + p);
      }
      if (i + p >= key_.size() || key_[i + p] != prefix[p]) return Ok();
    }
    i += prefix.size();
    for (char glob : {'*', '?', '['}) {
      std::optional<uint64_t> child = FindChild(*node, glob);
      if (!child) continue;
      pattern_.assign(1, glob);
      Status walked = Walk(*child, 0, i);
      if (!walked) return walked;
    }
    if (i == key_.size()) return AddValues(*node);
    std::optional<uint64_t> child = FindChild(*node, key_[i]);
    if (!child) return Ok();
    off = *child;
    ++i;
  }
}

std::vector<Property> Hwdb::Search::TakeProperties() {
  std::vector<Property> properties;
  properties.reserve(found_.size());
  for (const Found& found : found_) properties.emplace_back(found.key, found.value);
  return properties;
}

Result<Hwdb> Hwdb::OpenAt(int dirfd, const std::string& path) {
  UniqueFd fd(openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return FailErrno("open " + path);
  Hwdb hwdb;
  hwdb.path_ = path;
  if (fstat(fd.get(), &hwdb.stat_) < 0) return FailErrno("stat " + path);
  auto bad = [&](const std::string& why) { return Fail(EBADMSG, path + ": " + why); };
  if (!S_ISREG(hwdb.stat_.st_mode)) return bad("not a regular file");
  if (static_cast<uint64_t>(hwdb.stat_.st_size) < kHeaderSize)
    return bad("too short for a hwdb header");
  const size_t size = hwdb.stat_.st_size;
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (map == MAP_FAILED) return FailErrno("mmap " + path);
  hwdb.map_ = std::unique_ptr<const char, Unmapper>(static_cast<const char*>(map), {size});
  hwdb.size_ = size;

  const char* head = hwdb.map_.get();
  if (memcmp(head, kSignature, sizeof(kSignature)) != 0) return bad("no hwdb signature");
  hwdb.tool_version_ = Le64(head + 8);
  uint64_t file_size = Le64(head + 16);
  uint64_t header_size = Le64(head + 24);
  hwdb.node_size_ = Le64(head + 32);
  hwdb.child_size_ = Le64(head + 40);
  hwdb.value_size_ = Le64(head + 48);
  hwdb.root_off_ = Le64(head + 56);
  uint64_t nodes_len = Le64(head + 64);
  uint64_t strings_len = Le64(head + 72);
  if (file_size != size)
    return bad("header says " + std::to_string(file_size) + " bytes, the file has " +
               std::to_string(size));
  if (header_size < kHeaderSize || header_size > size) return bad("bad header size");
  if (hwdb.node_size_ < kNodeSize || hwdb.node_size_ > kMaxRecordSize) return bad("bad node size");
  if (hwdb.child_size_ < kChildSize || hwdb.child_size_ > kMaxRecordSize)
    return bad("bad child entry size");
  if (hwdb.value_size_ < kValueSize || hwdb.value_size_ > kMaxRecordSize)
    return bad("bad value entry size");
  if (nodes_len > size - header_size || strings_len != size - header_size - nodes_len)
    return bad("the node and string sections do not add up to the file");
  if (strings_len == 0 || head[size - 1] != '\0')
    return bad("the string section is not terminated");
  hwdb.nodes_begin_ = header_size;
  hwdb.nodes_end_ = header_size + nodes_len;
  hwdb.strings_begin_ = hwdb.nodes_end_;
  if (nodes_len < hwdb.node_size_ || hwdb.root_off_ < hwdb.nodes_begin_ ||
      hwdb.root_off_ > hwdb.nodes_end_ - hwdb.node_size_)
    return bad("the root node is outside the node section");
  auto root = Search(hwdb, "").ReadNode(hwdb.root_off_);
  if (!root) return bad(root.error().context);
  return hwdb;
}

Result<std::vector<Property>> Hwdb::Lookup(std::string_view modalias) const {
  // The C API sees a string up to its first NUL: match what it would.
  modalias = modalias.substr(0, modalias.find('\0'));
  Search search(*this, modalias);
  Status ran = search.Run();
  if (!ran) return tl::unexpected(Error{ran.error().code, path_ + ": " + ran.error().context});
  return search.TakeProperties();
}

Result<HwdbLocation> FindInstalledHwdb(int root_fd) {
  for (std::string_view candidate : kHwdbBinPaths) {
    HwdbLocation location{std::string(candidate), {}};
    if (fstatat(root_fd, location.path.c_str(), &location.stat, 0) == 0) return location;
    if (errno != ENOENT) return FailErrno("stat " + location.path);
  }
  return Fail(ENOENT, "no hwdb.bin installed");
}

Result<Hwdb> OpenInstalledHwdb(int root_fd) {
  auto location = FindInstalledHwdb(root_fd);
  if (!location) return tl::unexpected(location.error());
  return Hwdb::OpenAt(root_fd, location->path);
}

bool SameFileVersion(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace vdev
