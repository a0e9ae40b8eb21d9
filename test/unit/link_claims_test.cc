#include "link_claims.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "common/fs_util.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;

UniqueFd MakeAndOpen(const std::string& path) {
  mkdir(path.c_str(), 0755);
  return std::move(*OpenDirAt(AT_FDCWD, path));
}

class LinkClaimsTest : public ::testing::Test {
 protected:
  std::string Link(const std::string& name) {
    return ReadLinkAt(dev_.get(), name).value_or("<none>");
  }
  bool Exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
  }
  // Every entry below dir, relative to it.
  std::set<std::string> Tree(const std::string& dir) {
    std::set<std::string> entries;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
      entries.insert(fs::relative(entry.path(), dir).string());
    return entries;
  }
  void Claim(const std::string& link, const std::string& id, const std::string& node,
             int priority) {
    auto claimed = claims_.Claim(link, id, node, priority);
    ASSERT_TRUE(claimed) << claimed.error().Message();
  }
  void Unclaim(const std::string& link, const std::string& id, const std::string& node) {
    auto unclaimed = claims_.Unclaim(link, id, node);
    ASSERT_TRUE(unclaimed) << unclaimed.error().Message();
  }
  std::vector<std::string> Claimants(const std::string& link) {
    auto claims = claims_.Claimants(link);
    EXPECT_TRUE(claims) << claims.error().Message();
    std::vector<std::string> ids;
    for (const auto& claim : claims.value_or(std::vector<LinkClaim>{}))
      ids.push_back(claim.device_id);
    return ids;
  }

  testing::TempDir dir_;
  UniqueFd dev_ = MakeAndOpen(dir_.Sub("dev"));
  UniqueFd run_ = MakeAndOpen(dir_.Sub("run"));
  DevNodeWriter writer_{dev_.get()};
  // Claims made in a test are ordered by this clock, one tick per new claim.
  std::atomic<uint64_t> now_{1000};
  LinkClaims claims_{run_.get(), writer_, [this] { return now_++; }};
};

TEST(EscapeStoreName, NoNameLeavesItsDirectory) {
  EXPECT_EQ(EscapeStoreName("disk/by-uuid/1234-ABCD"), "disk\\x2fby-uuid\\x2f1234-ABCD");
  EXPECT_EQ(EscapeStoreName("b8:1"), "b8:1");
  EXPECT_EQ(EscapeStoreName("+sound:card0"), "+sound:card0");
  EXPECT_EQ(EscapeStoreName("."), "\\x2e");
  EXPECT_EQ(EscapeStoreName(".."), "\\x2e.");
  EXPECT_EQ(EscapeStoreName(".#vdev.1.2"), "\\x2e#vdev.1.2");
  EXPECT_EQ(EscapeStoreName("a b\n"), "a\\x20b\\x0a");
  // Injective: an escape sequence in a name is escaped in turn.
  EXPECT_NE(EscapeStoreName("x/y"), EscapeStoreName("x\\x2fy"));
  // Long names are cut and hashed, and stay distinct.
  std::string long_a(600, '/'), long_b = long_a;
  long_b.back() = 'b';
  EXPECT_LE(EscapeStoreName(long_a).size(), 200u);
  EXPECT_NE(EscapeStoreName(long_a), EscapeStoreName(long_b));
  for (const std::string& name : {long_a, long_b}) {
    std::string escaped = EscapeStoreName(name);
    EXPECT_EQ(escaped.find('/'), std::string::npos) << escaped;
    EXPECT_FALSE(escaped.starts_with('.')) << escaped;
  }
}

TEST(BestClaim, PriorityThenOldestThenDeviceId) {
  EXPECT_EQ(BestClaim({}), nullptr);
  std::vector<LinkClaim> claims = {{"b8:1", "sda1", 0, 10},
                                   {"b8:17", "sdb1", 5, 30},
                                   {"b8:33", "sdc1", 5, 20},
                                   {"b8:49", "sdd1", -1, 1}};
  EXPECT_EQ(BestClaim(claims)->device_id, "b8:33");
  claims[2].since_usec = 30;
  EXPECT_EQ(BestClaim(claims)->device_id, "b8:17");
}

TEST_F(LinkClaimsTest, HigherPriorityWinsInEitherOrder) {
  Claim("disk/by-uuid/x", "b8:1", "sda1", 0);
  EXPECT_EQ(Link("disk/by-uuid/x"), "../../sda1");
  Claim("disk/by-uuid/x", "b8:17", "sdb1", 10);
  EXPECT_EQ(Link("disk/by-uuid/x"), "../../sdb1");

  Claim("disk/by-uuid/y", "b8:17", "sdb1", 10);
  Claim("disk/by-uuid/y", "b8:1", "sda1", 0);
  EXPECT_EQ(Link("disk/by-uuid/y"), "../../sdb1");

  // Negative priorities rank below the default.
  Claim("disk/by-uuid/z", "b8:1", "sda1", 0);
  Claim("disk/by-uuid/z", "b8:17", "sdb1", -100);
  EXPECT_EQ(Link("disk/by-uuid/z"), "../../sda1");
  EXPECT_EQ(Claimants("disk/by-uuid/z"), (std::vector<std::string>{"b8:1", "b8:17"}));
}

TEST_F(LinkClaimsTest, OwnerGoingFallsBackAndTheLastRemovesTheLink) {
  Claim("disk/by-label/data", "b8:1", "sda1", 0);
  Claim("disk/by-label/data", "b8:17", "sdb1", 5);
  Claim("disk/by-label/data", "b8:33", "sdc1", 3);
  EXPECT_EQ(Link("disk/by-label/data"), "../../sdb1");

  Unclaim("disk/by-label/data", "b8:17", "sdb1");
  EXPECT_EQ(Link("disk/by-label/data"), "../../sdc1");
  // Dropping a claimant that does not own the link leaves the link where it is.
  Unclaim("disk/by-label/data", "b8:1", "sda1");
  EXPECT_EQ(Link("disk/by-label/data"), "../../sdc1");
  Unclaim("disk/by-label/data", "b8:33", "sdc1");
  EXPECT_EQ(Link("disk/by-label/data"), "<none>");
  EXPECT_TRUE(Claimants("disk/by-label/data").empty());

  // Nothing is left behind: no link directories, no store directory for the link.
  EXPECT_FALSE(Exists(dir_.Sub("dev/disk")));
  EXPECT_TRUE(Tree(dir_.Sub("run/vdev/links")).empty());
  // Dropping again (a repeated remove event) is harmless.
  Unclaim("disk/by-label/data", "b8:33", "sdc1");
}

TEST_F(LinkClaimsTest, EqualPrioritiesKeepTheOldestClaim) {
  Claim("disk/by-uuid/x", "b8:17", "sdb1", 0);
  Claim("disk/by-uuid/x", "b8:1", "sda1", 0);
  EXPECT_EQ(Link("disk/by-uuid/x"), "../../sdb1") << "a newcomer does not take the link over";

  // Claiming again (a change event) keeps the claim's age, so the link does not flap.
  Claim("disk/by-uuid/x", "b8:1", "sda1", 0);
  Claim("disk/by-uuid/x", "b8:17", "sdb1", 0);
  Claim("disk/by-uuid/x", "b8:1", "sda1", 0);
  EXPECT_EQ(Link("disk/by-uuid/x"), "../../sdb1");

  // The owner goes and comes back: its new claim is younger than the one left.
  Unclaim("disk/by-uuid/x", "b8:17", "sdb1");
  EXPECT_EQ(Link("disk/by-uuid/x"), "../../sda1");
  Claim("disk/by-uuid/x", "b8:17", "sdb1", 0);
  EXPECT_EQ(Link("disk/by-uuid/x"), "../../sda1");

  // A raised priority on a later event wins, and the claim keeps its age.
  auto before = claims_.Claimants("disk/by-uuid/x");
  ASSERT_TRUE(before);
  Claim("disk/by-uuid/x", "b8:17", "sdb1", 1);
  EXPECT_EQ(Link("disk/by-uuid/x"), "../../sdb1");
  auto after = claims_.Claimants("disk/by-uuid/x");
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[1].priority, 1);
  EXPECT_EQ((*after)[1].since_usec, (*before)[1].since_usec);
}

TEST_F(LinkClaimsTest, ClaimsSurviveARestart) {
  Claim("disk/by-label/data", "b8:1", "sda1", 0);
  Claim("disk/by-label/data", "b8:17", "sdb1", 5);
  // A new daemon (new LinkClaims; CLOCK_MONOTONIC goes on within a boot) decides from what
  // is on disk.
  std::atomic<uint64_t> restarted_now{now_ + 1000};
  LinkClaims restarted(run_.get(), writer_, [&] { return restarted_now++; });
  ASSERT_TRUE(restarted.Claim("disk/by-label/data", "b8:33", "sdc1", 0));
  EXPECT_EQ(Link("disk/by-label/data"), "../../sdb1");
  ASSERT_TRUE(restarted.Unclaim("disk/by-label/data", "b8:17", "sdb1"));
  // sda1's claim is older than sdc1's.
  EXPECT_EQ(Link("disk/by-label/data"), "../../sda1");
}

TEST_F(LinkClaimsTest, ChangedLinkSetLosesOnlyTheDroppedClaims) {
  for (const char* link : {"disk/by-label/a", "disk/by-id/b", "disk/by-uuid/c"})
    Claim(link, "b8:1", "sda1", 0);
  Claim("disk/by-label/a", "b8:17", "sdb1", -1);
  Claim("disk/by-id/b", "b8:17", "sdb1", -1);

  // sda1's change event no longer wants a and c.
  Unclaim("disk/by-label/a", "b8:1", "sda1");
  Unclaim("disk/by-uuid/c", "b8:1", "sda1");
  EXPECT_EQ(Link("disk/by-label/a"), "../../sdb1");
  EXPECT_EQ(Link("disk/by-id/b"), "../../sda1");
  EXPECT_EQ(Link("disk/by-uuid/c"), "<none>");
  EXPECT_EQ(Claimants("disk/by-label/a"), std::vector<std::string>{"b8:17"});
  EXPECT_EQ(Claimants("disk/by-id/b"), (std::vector<std::string>{"b8:1", "b8:17"}));
  EXPECT_TRUE(Claimants("disk/by-uuid/c").empty());
}

TEST_F(LinkClaimsTest, UnrecordedLinkIsRemovedOnlyFromItsOwnNode) {
  // A link made before the store existed: dropped only by the node it points at.
  ASSERT_TRUE(writer_.CreateLink("disk/by-id/old", "sda"));
  Unclaim("disk/by-id/old", "b8:16", "sdb");
  EXPECT_EQ(Link("disk/by-id/old"), "../../sda");
  Unclaim("disk/by-id/old", "b8:0", "sda");
  EXPECT_EQ(Link("disk/by-id/old"), "<none>");
}

TEST_F(LinkClaimsTest, HostileNamesStayInsideTheStore) {
  // Link names that would climb out of a path-joined store. The recording writer keeps
  // them away from the dev root; only the store is under test here.
  RecordingNodeWriter recorder;
  LinkClaims claims(run_.get(), recorder);
  const std::vector<std::string> hostile = {"..",
                                            ".",
                                            "../../../escaped",
                                            "/absolute",
                                            "a/../../../escaped",
                                            ".#vdev.1.1",
                                            std::string(300, '/') + "deep",
                                            std::string(400, '.'),
                                            "x\\x2fy",
                                            "x/y"};
  for (const auto& link : hostile) {
    auto claimed = claims.Claim(link, "../../b8:1", "sda1", 0);
    ASSERT_TRUE(claimed) << link << ": " << claimed.error().Message();
  }
  for (const auto& link : hostile) {
    auto found = claims.Claimants(link);
    ASSERT_TRUE(found) << link;
    ASSERT_EQ(found->size(), 1u) << link;
    EXPECT_EQ((*found)[0].device_id, "../../b8:1");
  }
  // One directory per link, one file in each, nothing anywhere else.
  std::set<std::string> store_entries;
  for (const auto& entry : fs::directory_iterator(dir_.Sub("run/vdev/links"))) {
    EXPECT_TRUE(entry.is_directory() && !entry.is_symlink()) << entry.path();
    store_entries.insert(entry.path().filename());
    EXPECT_EQ(Tree(entry.path()), std::set<std::string>{EscapeStoreName("../../b8:1")})
        << entry.path();
  }
  EXPECT_EQ(store_entries.size(), hostile.size());
  EXPECT_EQ(EscapeStoreName("../../b8:1").find('/'), std::string::npos);
  EXPECT_EQ(Tree(dir_.path()).size(), Tree(dir_.Sub("run/vdev/links")).size() + 4)
      << "dev, run, run/vdev, run/vdev/links and nothing else outside the store";

  for (const auto& link : hostile) ASSERT_TRUE(claims.Unclaim(link, "../../b8:1", "sda1")) << link;
  EXPECT_TRUE(Tree(dir_.Sub("run/vdev/links")).empty());

  // Names that cannot be written into a claim file are refused.
  EXPECT_EQ(claims.Claim("bad\nlink", "b8:1", "sda1", 0).error().code, EINVAL);
  EXPECT_EQ(claims.Claim("", "b8:1", "sda1", 0).error().code, EINVAL);
  EXPECT_EQ(claims.Claim("ok", "b8:1", std::string("sda\0", 4), 0).error().code, EINVAL);
}

TEST_F(LinkClaimsTest, SymlinksInTheStoreAreNotFollowed) {
  const std::string outside = dir_.Sub("outside");
  mkdir(outside.c_str(), 0755);
  Claim("disk/by-label/x", "b8:1", "sda1", 0);
  // Someone replaced the link's directory and planted a claim file that is a symlink.
  const std::string link_dir = dir_.Sub("run/vdev/links/") + EscapeStoreName("disk/by-label/y");
  ASSERT_EQ(symlink(outside.c_str(), link_dir.c_str()), 0);
  EXPECT_FALSE(claims_.Claim("disk/by-label/y", "b8:1", "sda1", 0));
  EXPECT_TRUE(Tree(outside).empty());

  const std::string planted = dir_.Sub("run/vdev/links/") + EscapeStoreName("disk/by-label/x") +
                              "/" + EscapeStoreName("b8:99");
  ASSERT_EQ(symlink((outside + "/claim").c_str(), planted.c_str()), 0);
  EXPECT_EQ(Claimants("disk/by-label/x"), std::vector<std::string>{"b8:1"});
  EXPECT_TRUE(Tree(outside).empty());
}

TEST_F(LinkClaimsTest, ClaimFilesOfAnotherLinkAndStaleTemporariesAreIgnored) {
  Claim("disk/by-label/x", "b8:1", "sda1", 0);
  const std::string link_dir = dir_.Sub("run/vdev/links/") + EscapeStoreName("disk/by-label/x");
  // As if two long link names had been cut to the same store name.
  ASSERT_TRUE(WriteFileAtomicAt(run_.get(),
                                "vdev/links/" + EscapeStoreName("disk/by-label/x") + "/b8:17",
                                "link=disk/by-label/other\ndevice=b8:17\nnode=sdb1\n"
                                "priority=99\nsince=1\n",
                                0644));
  // A write interrupted by a crash.
  ASSERT_TRUE(WriteFileAtomicAt(run_.get(),
                                "vdev/links/" + EscapeStoreName("disk/by-label/x") + "/.#b8:33.1.1",
                                "partial", 0644));
  Claim("disk/by-label/x", "b8:49", "sdd1", 0);
  EXPECT_EQ(Link("disk/by-label/x"), "../../sda1");
  EXPECT_EQ(Claimants("disk/by-label/x"), (std::vector<std::string>{"b8:1", "b8:49"}));
  EXPECT_FALSE(Exists(link_dir + "/.#b8:33.1.1"));
}

// A worker removing the last link of a directory between CreateLink's mkdir and symlink.
class RacedWriter : public DevNodeWriter {
 public:
  using DevNodeWriter::DevNodeWriter;
  Status CreateLink(const std::string& link, const std::string& node_name) override {
    if (races_left > 0) {
      --races_left;
      return Fail(ENOENT, "symlink " + link);
    }
    return DevNodeWriter::CreateLink(link, node_name);
  }
  int races_left = 1;
};

TEST_F(LinkClaimsTest, LinkDirectoryRemovedUnderneathIsMadeAgain) {
  RacedWriter raced(dev_.get());
  LinkClaims claims(run_.get(), raced);
  ASSERT_TRUE(claims.Claim("disk/by-label/x", "b8:1", "sda1", 0));
  EXPECT_EQ(raced.races_left, 0);
  EXPECT_EQ(Link("disk/by-label/x"), "../../sda1");
  // A directory that keeps vanishing is reported after a few attempts.
  raced.races_left = 100;
  EXPECT_FALSE(claims.Claim("disk/by-label/x", "b8:1", "sda1", 0));
  EXPECT_EQ(raced.races_left, 96);
}

// Worker threads claim and drop the same few links for different devices at once (the
// queue serializes only events of one device). Afterwards the store holds exactly what
// each device last did, and every link points at its best remaining claimant.
TEST_F(LinkClaimsTest, ConcurrentClaimsEndConsistent) {
  constexpr int kThreads = 8, kRounds = 200;
  const std::vector<std::string> links = {"disk/by-label/a", "disk/by-label/b", "disk/by-uuid/c"};
  // Per device: link -> priority of its standing claim.
  std::vector<std::map<std::string, int>> held(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(t);
      const std::string id = "b8:" + std::to_string(t * 16), node = "sd" + std::string(1, 'a' + t);
      for (int round = 0; round < kRounds; ++round) {
        const std::string& link = links[random() % links.size()];
        if (random() % 3 == 0) {
          if (!claims_.Unclaim(link, id, node)) ++failures;
          held[t].erase(link);
        } else {
          int priority = static_cast<int>(random() % 4);
          if (!claims_.Claim(link, id, node, priority)) ++failures;
          held[t][link] = priority;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);

  for (const auto& link : links) {
    auto claims = claims_.Claimants(link);
    ASSERT_TRUE(claims);
    std::map<std::string, int> expected, recorded;
    for (int t = 0; t < kThreads; ++t)
      if (auto it = held[t].find(link); it != held[t].end())
        expected["b8:" + std::to_string(t * 16)] = it->second;
    for (const auto& claim : *claims) recorded[claim.device_id] = claim.priority;
    EXPECT_EQ(recorded, expected) << link;
    if (const LinkClaim* best = BestClaim(*claims)) {
      EXPECT_EQ(Link(link), RelativeLinkTarget(link, best->node_name)) << link;
    } else {
      EXPECT_EQ(Link(link), "<none>") << link;
    }
  }
  // No temporary files anywhere.
  for (const auto& entry : fs::recursive_directory_iterator(dir_.path()))
    EXPECT_FALSE(entry.path().filename().string().starts_with(".#")) << entry.path();
}

}  // namespace
}  // namespace vdev
