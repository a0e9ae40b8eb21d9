#include "substitution.h"

#include <gtest/gtest.h>

#include <map>

namespace vdev {
namespace {

// Answers placeholders from fixed tables.
class TableSource : public SubstitutionSource {
 public:
  std::string_view Lookup(Placeholder placeholder, std::string_view name) override {
    switch (placeholder) {
      case Placeholder::kKernel:
        return "sda1";
      case Placeholder::kNumber:
        return "1";
      case Placeholder::kDevpath:
        return "/devices/virtual/block/sda/sda1";
      case Placeholder::kMajor:
        return "8";
      case Placeholder::kMinor:
        return "1";
      case Placeholder::kEnv: {
        auto it = env.find(std::string(name));
        return it == env.end() ? std::string_view() : std::string_view(it->second);
      }
      case Placeholder::kAttr: {
        auto it = attr.find(std::string(name));
        return it == attr.end() ? std::string_view() : std::string_view(it->second);
      }
      case Placeholder::kDevnode:
        return "/dev/sda1";
      case Placeholder::kRoot:
        return "/dev";
    }
    return {};
  }

  std::map<std::string, std::string> env;
  std::map<std::string, std::string> attr;
};

std::string Expand(std::string_view text, TableSource& source, Escape escape) {
  auto compiled = Template::Compile(text);
  EXPECT_TRUE(compiled) << text << ": " << compiled.error().context;
  if (!compiled) return "<invalid>";
  std::string out;
  compiled->Expand(source, escape, &out);
  return out;
}

TEST(SubstitutionTest, ExpandsEveryPlaceholder) {
  TableSource source;
  source.env = {{"ID_SERIAL", "WD-123"}};
  source.attr = {{"queue/rotational", "0"}};
  struct Case {
    std::string_view text;
    std::string_view expected;
  } cases[] = {
      {"plain/text", "plain/text"},
      {"%k %n %p %M:%m", "sda1 1 /devices/virtual/block/sda/sda1 8:1"},
      {"$kernel $number $devpath $major:$minor", "sda1 1 /devices/virtual/block/sda/sda1 8:1"},
      {"disk/by-id/%E{ID_SERIAL}-part%n", "disk/by-id/WD-123-part1"},
      {"disk/by-id/$env{ID_SERIAL}", "disk/by-id/WD-123"},
      {"rot=%s{queue/rotational} $attr{queue/rotational}", "rot=0 0"},
      {"missing=[$env{NOPE}][%s{nope}]", "missing=[][]"},
      {"100%% $$HOME", "100% $HOME"},
      {"%N $devnode %r $root", "/dev/sda1 /dev/sda1 /dev /dev"},
      {"$kernelx", "sda1x"},  // udev matches the placeholder name as a prefix
  };
  for (const Case& c : cases)
    EXPECT_EQ(Expand(c.text, source, Escape::kProperty), c.expected) << c.text;
}

TEST(SubstitutionTest, RejectsMalformedTemplates) {
  struct Case {
    std::string_view text;
    std::string_view reason;
  } cases[] = {
      {"%q", "unknown substitution '%q'"},
      {"x$foo", "unknown substitution '$foo'"},
      {"trailing %", "unknown substitution '%'"},
      {"%E", "substitution '%E' needs a {NAME}"},
      {"$env{ID_SERIAL", "unterminated '{' in substitution"},
      {"$env{BAD-NAME}", "invalid name 'BAD-NAME' in substitution"},
      {"%s{../../etc/shadow}", "invalid name '../../etc/shadow' in substitution"},
      {"%s{/abs}", "invalid name '/abs' in substitution"},
  };
  for (const Case& c : cases) {
    auto compiled = Template::Compile(c.text);
    ASSERT_FALSE(compiled) << c.text;
    EXPECT_EQ(compiled.error().context, c.reason) << c.text;
  }
}

TEST(SubstitutionTest, LinkEscapingKeepsHostileValuesInsideTheirDirectory) {
  TableSource source;
  struct Case {
    std::string value;
    std::string expected_link;  // after escaping "disk/by-label/$env{X}"
    bool safe;                  // IsSafeLinkName of the result
  } cases[] = {
      {"root", "disk/by-label/root", true},
      {"my disk", "disk/by-label/my_disk", true},
      {"my\\x20disk", "disk/by-label/my\\x20disk", true},  // *_ENC values pass unchanged
      {"a\nb\tc\x01", "disk/by-label/a_b_c_", true},
      {"..", "disk/by-label/..", false},
      {"../../../etc/passwd", "disk/by-label/../../../etc/passwd", false},
      {"x/../../y", "disk/by-label/x/../../y", false},
      {"$(reboot);`id`|&*?", "disk/by-label/__reboot___id_____", true},
      {"M\xc3\xbcller", "disk/by-label/M\xc3\xbcller", true},  // valid UTF-8 stays
      {"bad\xc3(utf8\xff", "disk/by-label/bad__utf8_", true},
      {"\xed\xa0\x80surrogate", "disk/by-label/___surrogate", true},
      {"", "disk/by-label/", false},
  };
  for (const Case& c : cases) {
    source.env["X"] = c.value;
    std::string link = Expand("disk/by-label/$env{X}", source, Escape::kLink);
    EXPECT_EQ(link, c.expected_link) << c.value;
    EXPECT_EQ(IsSafeLinkName(link), c.safe) << link;
    // Whatever the value, it never adds a word: links are split on whitespace afterwards.
    EXPECT_EQ(SplitWords(link).size(), link.empty() ? 0u : 1u) << link;
  }
  source.env["X"] = "/etc/passwd";
  EXPECT_FALSE(IsSafeLinkName(Expand("$env{X}", source, Escape::kLink)));
}

TEST(SubstitutionTest, CommandAndPropertyEscaping) {
  TableSource source;
  source.env["X"] = "two words\nand\x7f more";
  EXPECT_EQ(Expand("helper $env{X}", source, Escape::kCommand), "helper two words_and_ more");
  EXPECT_EQ(Expand("$env{X}", source, Escape::kProperty), "two words_and_ more");
  // Literal text from the rule is not touched, even in link context.
  EXPECT_EQ(Expand("a b!c", source, Escape::kLink), "a b!c");
}

TEST(SubstitutionTest, SafeLinkNames) {
  struct Case {
    std::string_view link;
    bool safe;
  } cases[] = {
      {"rtc", true},     {"disk/by-id/ata-X", true},
      {"", false},       {"/rtc", false},
      {".", false},      {"..", false},
      {"a/./b", false},  {"a//b", false},
      {"a/", false},     {"a/..", false},
      {"a\nb", false},   {"...", true},
      {".hidden", true}, {"a/b..c", true},
  };
  for (const Case& c : cases) EXPECT_EQ(IsSafeLinkName(c.link), c.safe) << c.link;
}

TEST(SubstitutionTest, SplitWords) {
  EXPECT_EQ(SplitWords("  a \t b\nc  "), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_TRUE(SplitWords(" \t ").empty());
}

}  // namespace
}  // namespace vdev
