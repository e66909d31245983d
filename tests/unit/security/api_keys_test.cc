#include "security/api_keys.h"

#include <gtest/gtest.h>

#include "security/access_policy.h"

namespace dw::security {
namespace {

TEST(ApiKeysTest, GeneratedKeysParseAndDiffer) {
  const NewKey a = generateKey();
  const NewKey b = generateKey();
  EXPECT_NE(a.key, b.key);
  ASSERT_TRUE(keyId(a.key).has_value());
  EXPECT_EQ(*keyId(a.key), a.id);
  EXPECT_EQ(a.digest, sha256(a.key));
  EXPECT_EQ(maskKey(a.id, a.last4), "dwk_" + a.id + "_…" + a.key.substr(a.key.size() - 4));
}

TEST(ApiKeysTest, MalformedKeysHaveNoId) {
  EXPECT_FALSE(keyId("").has_value());
  EXPECT_FALSE(keyId("sk-abc").has_value());
  std::string key = generateKey().key;
  EXPECT_FALSE(keyId(key.substr(1)).has_value());
  key[6] = 'Z';  // Not hex in the id.
  EXPECT_FALSE(keyId(key).has_value());
}

TEST(ApiKeysTest, BearerTokenIsCaseInsensitiveAndTrimmed) {
  EXPECT_EQ(bearerToken("Bearer abc"), "abc");
  EXPECT_EQ(bearerToken("bearer   abc  "), "abc");
  EXPECT_EQ(bearerToken("Basic abc"), "");
  EXPECT_EQ(bearerToken("Bearer"), "");
}

TEST(AccessPolicyTest, AuthenticatesOnlyTheExactUnexpiredKey) {
  const NewKey k = generateKey();
  const NewKey expired = generateKey();
  auto rbac = Rbac::build(Rbac::builtinRoles(), {});
  ASSERT_TRUE(rbac.ok());
  AccessPolicy policy(true,
                      {KeyEntry{k.id, k.digest, {"alice", {}}, 0},
                       KeyEntry{expired.id, expired.digest, {"bob", {}}, 1000}},
                      *rbac);
  const Principal* p = policy.authenticate(k.key, 5000);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->user, "alice");
  std::string wrong = k.key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(policy.authenticate(wrong, 5000), nullptr);
  EXPECT_EQ(policy.authenticate(expired.key, 5000), nullptr);
  EXPECT_NE(policy.authenticate(expired.key, 999), nullptr);
  EXPECT_EQ(policy.authenticate(generateKey().key, 5000), nullptr);
}

}  // namespace
}  // namespace dw::security
