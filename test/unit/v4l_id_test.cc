// The v4l_id builtin's formatting of VIDIOC_QUERYCAP answers (ID_V4L_VERSION, ID_V4L_PRODUCT,
// ID_V4L_CAPABILITIES), for the kinds of Video4Linux devices udev 252's v4l_id tells apart.
//
// Capability words: those the kernel's drivers report (uvcvideo's capture node and its
// metadata node, a bttv TV card, a radio tuner, a mem2mem codec, an old driver without
// device_caps); expected values from v4l_id.c's printf()s for the same words.
#include "builtin_v4l_id.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>

#include "common/unique_fd.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

using Properties = std::vector<Property>;

v4l2_capability Capability(const char* card, uint32_t capabilities, uint32_t device_caps) {
  v4l2_capability capability{};
  strncpy(reinterpret_cast<char*>(capability.driver), "test", sizeof(capability.driver) - 1);
  memcpy(capability.card, card, std::min(strlen(card), sizeof(capability.card)));
  capability.capabilities = capabilities;
  capability.device_caps = device_caps;
  return capability;
}

TEST(V4lIdTest, UvcWebcam) {
  // uvcvideo: the driver's words cover both nodes; each node's own are in device_caps.
  uint32_t all = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING |
                 V4L2_CAP_EXT_PIX_FORMAT | V4L2_CAP_DEVICE_CAPS;
  EXPECT_EQ(V4lIdProperties(Capability(
                "Integrated Camera: Integrated C", all,
                V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_EXT_PIX_FORMAT)),
            (Properties{{"ID_V4L_VERSION", "2"},
                        {"ID_V4L_PRODUCT", "Integrated Camera: Integrated C"},
                        {"ID_V4L_CAPABILITIES", ":capture:"}}));
  // The metadata node captures no video: no words at all, but the framing colon.
  EXPECT_EQ(V4lIdProperties(Capability("Integrated Camera: Integrated C", all,
                                       V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING))
                .back(),
            (Property{"ID_V4L_CAPABILITIES", ":"}));
}

TEST(V4lIdTest, TvCardRadioAndCodec) {
  uint32_t tv = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_OVERLAY | V4L2_CAP_VBI_CAPTURE |
                V4L2_CAP_TUNER | V4L2_CAP_AUDIO | V4L2_CAP_READWRITE | V4L2_CAP_STREAMING;
  EXPECT_EQ(V4lIdProperties(Capability("BT878 video (Hauppauge (bt878))",
                                       tv | V4L2_CAP_RADIO | V4L2_CAP_DEVICE_CAPS, tv))
                .back(),
            (Property{"ID_V4L_CAPABILITIES", ":capture:video_overlay:audio:tuner:"}));
  uint32_t radio = V4L2_CAP_TUNER | V4L2_CAP_AUDIO | V4L2_CAP_RADIO;
  EXPECT_EQ(V4lIdProperties(Capability("BT878 radio", radio | V4L2_CAP_DEVICE_CAPS, radio))
                .back(),
            (Property{"ID_V4L_CAPABILITIES", ":audio:tuner:radio:"}));
  // A multi-planar mem2mem device: both directions through the _MPLANE words.
  uint32_t codec = V4L2_CAP_VIDEO_CAPTURE_MPLANE | V4L2_CAP_VIDEO_OUTPUT_MPLANE |
                   V4L2_CAP_STREAMING;
  EXPECT_EQ(V4lIdProperties(Capability("vicodec", codec | V4L2_CAP_DEVICE_CAPS, codec)).back(),
            (Property{"ID_V4L_CAPABILITIES", ":capture:video_output:"}));
}

TEST(V4lIdTest, DriverWithoutDeviceCaps) {
  // Without V4L2_CAP_DEVICE_CAPS the driver's words are the node's (device_caps is ignored).
  EXPECT_EQ(V4lIdProperties(Capability("old", V4L2_CAP_VIDEO_OUTPUT, V4L2_CAP_RADIO)).back(),
            (Property{"ID_V4L_CAPABILITIES", ":video_output:"}));
}

TEST(V4lIdTest, ProductOnlyWhenClean) {
  // A card name filling all 32 bytes (no terminating NUL) is read to its end, not beyond.
  std::string full(32, 'x');
  EXPECT_EQ(V4lIdProperties(Capability(full.c_str(), 0, 0)).at(1),
            (Property{"ID_V4L_PRODUCT", full}));
  EXPECT_EQ(V4lIdProperties(Capability("Caméra", 0, 0)).at(1),
            (Property{"ID_V4L_PRODUCT", "Caméra"}));
  // Control characters or broken UTF-8: the product is left out, the rest stays.
  EXPECT_EQ(V4lIdProperties(Capability("bad\ttab", 0, 0)),
            (Properties{{"ID_V4L_VERSION", "2"}, {"ID_V4L_CAPABILITIES", ":"}}));
  EXPECT_EQ(V4lIdProperties(Capability("bad\xff", 0, 0)).size(), 2u);
}

TEST(V4lIdTest, NotAV4lNode) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("file")) << "x";
  UniqueFd fd(open(dir.Sub("file").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  EXPECT_TRUE(V4lIdProperties(fd.get()).empty());
}

}  // namespace
}  // namespace vdev
