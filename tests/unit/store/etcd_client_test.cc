#include "store/etcd_client.h"

#include <string>

#include <gtest/gtest.h>

namespace dw::store {
namespace {

TEST(EtcdBase64Test, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>(i * 37));
    const std::string text = base64Encode(bytes);
    EXPECT_EQ(text.size() % 4, 0u);
    auto back = base64Decode(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_EQ(base64Encode("/dw/x"), "L2R3L3g=");
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Decode("aGk=").value(), "hi");
}

TEST(EtcdBase64Test, RefusesWhatIsNotBase64) {
  EXPECT_FALSE(base64Decode("abc").has_value());
  EXPECT_FALSE(base64Decode("a$c=").has_value());
}

TEST(EtcdPrefixEndTest, IsTheNextKeyAfterThePrefix) {
  EXPECT_EQ(prefixEnd("/deepwatch/routes/"), "/deepwatch/routes0");
  EXPECT_EQ(prefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefixEnd(""), std::string(1, '\0'));
}

}  // namespace
}  // namespace dw::store
