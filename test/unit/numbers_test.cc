#include "common/numbers.h"

#include <gtest/gtest.h>

namespace vdev {
namespace {

TEST(ParseNumber, WholeTextOnly) {
  EXPECT_EQ(ParseNumber<int>("42"), 42);
  EXPECT_EQ(ParseNumber<int>("-3"), -3);
  EXPECT_EQ(ParseNumber<unsigned>("0660", 8), 0660u);
  EXPECT_FALSE(ParseNumber<int>(""));
  EXPECT_FALSE(ParseNumber<int>("42x"));
  EXPECT_FALSE(ParseNumber<int>(" 42"));
  EXPECT_FALSE(ParseNumber<unsigned>("-1"));
  EXPECT_FALSE(ParseNumber<unsigned>("0899", 8));
  EXPECT_FALSE(ParseNumber<int>("99999999999"));
}

TEST(ParseSeconds, UdevadmSpellings) {
  EXPECT_EQ(ParseSeconds("5"), 5.0);
  EXPECT_EQ(ParseSeconds("2.5"), 2.5);
  EXPECT_EQ(ParseSeconds("10s"), 10.0);
  EXPECT_EQ(ParseSeconds("0"), 0.0);
  EXPECT_FALSE(ParseSeconds(""));
  EXPECT_FALSE(ParseSeconds("s"));
  EXPECT_FALSE(ParseSeconds("-1"));
  EXPECT_FALSE(ParseSeconds("5m"));
  EXPECT_FALSE(ParseSeconds("inf"));
  EXPECT_FALSE(ParseSeconds("nan"));
}

}  // namespace
}  // namespace vdev
