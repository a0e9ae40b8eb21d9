#include "link_claims.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

#include "common/fs_util.h"
#include "common/log.h"
#include "common/numbers.h"
#include "common/unique_fd.h"

namespace vdev {
namespace {

// Store names stay well below NAME_MAX so that WriteFileAtomicAt's temporary name
// (".#<name>.<pid>.<n>") fits too.
constexpr size_t kMaxStoreName = 200;
constexpr size_t kCutStoreName = 180;
constexpr size_t kMaxClaimFile = 4096;
constexpr size_t kStripes = 64;

uint64_t MonotonicUsec() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

// Process-wide, so that every LinkClaims on the same store (the daemon has one; tests may
// make several) serializes on the same link.
std::mutex& StripeFor(std::string_view store_name) {
  static std::mutex stripes[kStripes];
  return stripes[std::hash<std::string_view>{}(store_name) % kStripes];
}

bool IsPlain(unsigned char c, bool first) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  if (c == '.') return !first;
  return c != 0 &&
         std::string_view("#+,-:=@_").find(static_cast<char>(c)) != std::string_view::npos;
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

// Names as they are written inside claim files: one line each, so no newline or NUL.
Status CheckName(std::string_view what, const std::string& name) {
  if (name.empty() || name.find_first_of(std::string_view("\n\0", 2)) != std::string::npos)
    return Fail(EINVAL, "invalid " + std::string(what) + " name '" + name + "'");
  return Ok();
}

Status CheckNames(const std::string& link, const std::string& device_id,
                  const std::string& node_name) {
  if (auto valid = CheckName("link", link); !valid) return valid;
  if (auto valid = CheckName("device", device_id); !valid) return valid;
  return CheckName("node", node_name);
}

// Opens (with create, makes) the directory name below dir_fd, never through a symlink.
Result<UniqueFd> OpenChildDir(int dir_fd, const std::string& name, bool create) {
  for (bool made = false;; made = true) {
    int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) return UniqueFd(fd);
    if (errno != ENOENT || !create || made) return FailErrno("open directory " + name);
    if (mkdirat(dir_fd, name.c_str(), 0755) < 0 && errno != EEXIST)
      return FailErrno("mkdir " + name);
  }
}

// RUN/vdev/links.
Result<UniqueFd> OpenStore(int run_fd, bool create) {
  auto vdev = OpenChildDir(run_fd, "vdev", create);
  if (!vdev) return vdev;
  return OpenChildDir(vdev->get(), "links", create);
}

Result<std::string> ReadClaimFile(int dir_fd, const std::string& name) {
  UniqueFd fd(
      openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return FailErrno("open " + name);
  struct stat st;
  if (fstat(fd.get(), &st) < 0) return FailErrno("stat " + name);
  if (!S_ISREG(st.st_mode)) return Fail(EINVAL, name + " is not a regular file");
  std::string content(kMaxClaimFile, '\0');
  ssize_t n;
  do {
    n = read(fd.get(), content.data(), content.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return FailErrno("read " + name);
  content.resize(n);
  return content;
}

std::string FormatClaim(const std::string& link, const LinkClaim& claim) {
  return "link=" + link + "\ndevice=" + claim.device_id + "\nnode=" + claim.node_name +
         "\npriority=" + std::to_string(claim.priority) +
         "\nsince=" + std::to_string(claim.since_usec) + "\n";
}

// nullopt for a malformed file or one that records another link (two links whose long
// names were cut to the same store name share a directory).
std::optional<LinkClaim> ParseClaim(std::string_view text, std::string_view link) {
  LinkClaim claim;
  std::string_view claimed_link;
  bool has_priority = false, has_since = false;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view key = line.substr(0, equals), value = line.substr(equals + 1);
    if (key == "link") {
      claimed_link = value;
    } else if (key == "device") {
      claim.device_id = value;
    } else if (key == "node") {
      claim.node_name = value;
    } else if (key == "priority") {
      auto priority = ParseNumber<int>(value);
      if (!priority) return std::nullopt;
      claim.priority = *priority;
      has_priority = true;
    } else if (key == "since") {
      auto since = ParseNumber<uint64_t>(value);
      if (!since) return std::nullopt;
      claim.since_usec = *since;
      has_since = true;
    }
  }
  if (claimed_link != link || claim.device_id.empty() || claim.node_name.empty() || !has_priority ||
      !has_since)
    return std::nullopt;
  return claim;
}

// The claims in a link's directory, sorted by device id. With remove_stale, temporary
// files left by an interrupted write are removed: the caller holds the link's lock, and
// every writer of this directory holds it while writing, so none of them is in flight.
Result<std::vector<LinkClaim>> ReadClaims(int dir_fd, const std::string& link, bool remove_stale) {
  int listing_fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing_fd < 0) return FailErrno("open claims of " + link);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(listing_fd), closedir);
  if (!dir) {
    Error error{errno, "list claims of " + link};
    close(listing_fd);
    return tl::unexpected(error);
  }
  std::vector<LinkClaim> claims;
  errno = 0;
  while (dirent* entry = readdir(dir.get())) {
    std::string name = entry->d_name;
    // Claim files never start with a dot (EscapeStoreName escapes a leading one).
    if (name.starts_with('.')) {
      if (remove_stale && name.starts_with(".#")) unlinkat(dir_fd, name.c_str(), 0);
      errno = 0;
      continue;
    }
    auto content = ReadClaimFile(dir_fd, name);
    std::optional<LinkClaim> claim;
    if (!content) {
      LogWarning("link claims of %s: %s, ignoring", link.c_str(),
                 content.error().Message().c_str());
    } else if (claim = ParseClaim(*content, link); !claim) {
      LogDebug("link claims of %s: %s is not a claim on this link, ignoring", link.c_str(),
               name.c_str());
    } else if (EscapeStoreName(claim->device_id) != name) {
      LogWarning("link claims of %s: %s records device %s, ignoring", link.c_str(), name.c_str(),
                 claim->device_id.c_str());
    } else {
      claims.push_back(std::move(*claim));
    }
    errno = 0;
  }
  if (errno != 0) return FailErrno("list claims of " + link);
  std::sort(claims.begin(), claims.end(),
            [](const LinkClaim& a, const LinkClaim& b) { return a.device_id < b.device_id; });
  return claims;
}

bool Outranks(const LinkClaim& a, const LinkClaim& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.since_usec != b.since_usec) return a.since_usec < b.since_usec;
  return a.device_id < b.device_id;
}

// NodeWriter::CreateLink makes missing parent directories, but a worker removing the last
// link of another claim in the same directory (disk/by-label/) may remove that directory
// between the mkdir and the symlink: then the link's directory is made again.
Status PointLink(NodeWriter& nodes, const std::string& link, const std::string& node_name) {
  Status linked = nodes.CreateLink(link, node_name);
  for (int attempt = 0; attempt < 3 && !linked && linked.error().code == ENOENT; ++attempt)
    linked = nodes.CreateLink(link, node_name);
  return linked;
}

}  // namespace

const LinkClaim* BestClaim(const std::vector<LinkClaim>& claims) {
  const LinkClaim* best = nullptr;
  for (const auto& claim : claims)
    if (!best || Outranks(claim, *best)) best = &claim;
  return best;
}

std::string EscapeStoreName(std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string escaped;
  escaped.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (IsPlain(c, i == 0)) {
      escaped += static_cast<char>(c);
    } else {
      escaped += "\\x";
      escaped += kHex[c >> 4];
      escaped += kHex[c & 15];
    }
  }
  if (escaped.size() > kMaxStoreName) {
    uint64_t hash = Fnv1a(name);
    escaped.resize(kCutStoreName);
    escaped += '%';
    for (int shift = 60; shift >= 0; shift -= 4) escaped += kHex[(hash >> shift) & 15];
  }
  return escaped;
}

LinkClaims::LinkClaims(int run_fd, NodeWriter& nodes, Clock clock)
    : run_fd_(run_fd), nodes_(nodes), clock_(clock ? std::move(clock) : Clock(MonotonicUsec)) {}

Status LinkClaims::Claim(const std::string& link, const std::string& device_id,
                         const std::string& node_name, int priority) {
  if (auto valid = CheckNames(link, device_id, node_name); !valid) return valid;
  auto store = OpenStore(run_fd_, /*create=*/true);
  if (!store) return tl::unexpected(store.error());
  const std::string dir_name = EscapeStoreName(link);
  const std::string file_name = EscapeStoreName(device_id);

  // Reading the claims, recording ours and pointing the link are one step: a worker that
  // pointed the link from claims another worker has changed meanwhile would undo its work.
  std::lock_guard lock(StripeFor(dir_name));
  auto dir = OpenChildDir(store->get(), dir_name, /*create=*/true);
  if (!dir) return tl::unexpected(dir.error());
  auto claims = ReadClaims(dir->get(), link, /*remove_stale=*/true);
  if (!claims) return tl::unexpected(claims.error());
  auto own = std::find_if(claims->begin(), claims->end(),
                          [&](const LinkClaim& claim) { return claim.device_id == device_id; });
  LinkClaim wanted{device_id, node_name, priority,
                   own != claims->end() ? own->since_usec : clock_()};
  if (own == claims->end() || !(*own == wanted)) {
    if (auto written = WriteFileAtomicAt(dir->get(), file_name, FormatClaim(link, wanted), 0644);
        !written)
      return Fail(written.error().code, "claim " + link + ": " + written.error().context);
    if (own == claims->end()) {
      claims->push_back(std::move(wanted));
    } else {
      *own = std::move(wanted);
    }
  }
  return PointLink(nodes_, link, BestClaim(*claims)->node_name);
}

Status LinkClaims::Unclaim(const std::string& link, const std::string& device_id,
                           const std::string& node_name) {
  if (auto valid = CheckNames(link, device_id, node_name); !valid) return valid;
  auto store = OpenStore(run_fd_, /*create=*/false);
  if (!store) {
    if (store.error().code == ENOENT) return nodes_.RemoveLink(link, node_name);
    return tl::unexpected(store.error());
  }
  const std::string dir_name = EscapeStoreName(link);
  const std::string file_name = EscapeStoreName(device_id);

  std::lock_guard lock(StripeFor(dir_name));
  auto dir = OpenChildDir(store->get(), dir_name, /*create=*/false);
  if (!dir) {
    if (dir.error().code == ENOENT) return nodes_.RemoveLink(link, node_name);
    return tl::unexpected(dir.error());
  }
  auto claims = ReadClaims(dir->get(), link, /*remove_stale=*/true);
  if (!claims) return tl::unexpected(claims.error());
  std::vector<std::string> dropped_nodes{node_name};
  auto own = std::find_if(claims->begin(), claims->end(),
                          [&](const LinkClaim& claim) { return claim.device_id == device_id; });
  if (own != claims->end()) {
    if (unlinkat(dir->get(), file_name.c_str(), 0) < 0 && errno != ENOENT)
      return FailErrno("unclaim " + link + ": unlink " + file_name);
    if (own->node_name != node_name) dropped_nodes.push_back(own->node_name);
    claims->erase(own);
  }
  if (const LinkClaim* best = BestClaim(*claims)) return PointLink(nodes_, link, best->node_name);

  // Nobody claims the link any more. The directory may still hold the claims of another
  // link cut to the same store name, or a stranger's file: then it stays.
  dir.value().reset();
  if (unlinkat(store->get(), dir_name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOTEMPTY &&
      errno != EEXIST && errno != ENOENT)
    LogWarning("link claims: rmdir %s: %m, ignoring", dir_name.c_str());
  Status removed = Ok();
  for (const auto& node : dropped_nodes) {
    if (auto unlinked = nodes_.RemoveLink(link, node); !unlinked && removed) removed = unlinked;
  }
  return removed;
}

Result<std::vector<LinkClaim>> LinkClaims::Claimants(const std::string& link) const {
  if (auto valid = CheckName("link", link); !valid) return tl::unexpected(valid.error());
  auto store = OpenStore(run_fd_, /*create=*/false);
  if (!store) {
    if (store.error().code == ENOENT) return std::vector<LinkClaim>{};
    return tl::unexpected(store.error());
  }
  const std::string dir_name = EscapeStoreName(link);
  std::lock_guard lock(StripeFor(dir_name));
  auto dir = OpenChildDir(store->get(), dir_name, /*create=*/false);
  if (!dir) {
    if (dir.error().code == ENOENT) return std::vector<LinkClaim>{};
    return tl::unexpected(dir.error());
  }
  return ReadClaims(dir->get(), link, /*remove_stale=*/false);
}

}  // namespace vdev
