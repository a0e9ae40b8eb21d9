#include "partition_table.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/fs_util.h"
#include "fixtures/disk_images.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

class PartitionTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::FindTool("sfdisk")) GTEST_SKIP() << "needs sfdisk";
    image_ = dir_.Sub("disk.img");
    ASSERT_TRUE(testing::MakeSparseFile(image_, 16 << 20));
    ASSERT_TRUE(testing::WritePartitionTable(
        image_, "label: gpt\nstart=2048, size=4096\nstart=8192, size=8192\n", dir_.path()));
    fd_.reset(open(image_.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(fd_);
    std::string sys = dir_.Sub("sys");
    mkdir(sys.c_str(), 0755);
    sysfs_ = std::make_unique<testing::FakeSysfs>(sys);
    sysfs_->AddBlockDevice(kDisk, "loop0", 7, 0);
    sysfs_fd_ = std::move(*OpenDirAt(AT_FDCWD, sys));
  }

  void AddKernelPartition(int number, uint64_t start, uint64_t size) {
    std::string devpath = std::string(kDisk) + "/loop0p" + std::to_string(number);
    sysfs_->AddBlockDevice(devpath, "loop0p" + std::to_string(number), 259, number, "partition");
    sysfs_->SetAttribute(devpath, "partition", std::to_string(number));
    sysfs_->SetAttribute(devpath, "start", std::to_string(start));
    sysfs_->SetAttribute(devpath, "size", std::to_string(size));
  }

  static constexpr const char* kDisk = "/devices/virtual/block/loop0";
  testing::TempDir dir_;
  std::string image_;
  UniqueFd fd_, sysfs_fd_;
  std::unique_ptr<testing::FakeSysfs> sysfs_;
};

TEST_F(PartitionTableTest, ReadsTheTableOnDisk) {
  auto table = ReadPartitionTable(fd_.get());
  ASSERT_TRUE(table) << table.error().Message();
  EXPECT_EQ(*table, (std::vector<PartitionExtent>{{1, 2048, 4096}, {2, 8192, 8192}}));
}

TEST_F(PartitionTableTest, KernelAgreeingMeansNoReread) {
  AddKernelPartition(1, 2048, 4096);
  AddKernelPartition(2, 8192, 8192);
  auto kernel = KernelPartitions(sysfs_fd_.get(), kDisk);
  ASSERT_TRUE(kernel) << kernel.error().Message();
  EXPECT_EQ(*kernel, *ReadPartitionTable(fd_.get()));
  // Equal: no BLKRRPART is even tried (on an image file it would fail with ENOTTY).
  auto reread = RereadIfChanged(fd_.get(), sysfs_fd_.get(), kDisk);
  ASSERT_TRUE(reread) << reread.error().Message();
  EXPECT_FALSE(*reread);
}

TEST_F(PartitionTableTest, ChangedTableAsksTheKernel) {
  AddKernelPartition(1, 2048, 2048);  // the kernel still has the old, smaller partition 1
  auto reread = RereadIfChanged(fd_.get(), sysfs_fd_.get(), kDisk);
  // A different table leads to BLKRRPART, which an image file refuses: proof it was tried.
  ASSERT_FALSE(reread);
  EXPECT_EQ(reread.error().code, ENOTTY);
}

TEST_F(PartitionTableTest, NoTableIsAnEmptyList) {
  std::string blank = dir_.Sub("blank.img");
  ASSERT_TRUE(testing::MakeSparseFile(blank, 4 << 20));
  UniqueFd fd(open(blank.c_str(), O_RDONLY | O_CLOEXEC));
  auto table = ReadPartitionTable(fd.get());
  ASSERT_TRUE(table);
  EXPECT_TRUE(table->empty());
}

}  // namespace
}  // namespace vdev
