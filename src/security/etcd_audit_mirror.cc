#include <fmt/format.h>

#include "security/audit_ecs.h"
#include "security/audit_mirror.h"
#include "store/etcd_client.h"

namespace dw::security {
namespace {

class EtcdAuditMirror final : public AuditMirror {
 public:
  explicit EtcdAuditMirror(EtcdAuditMirrorOptions options)
      : options_(std::move(options)), client_(options_.endpoints, options_.timeout) {}

  StatusOr<int64_t> lastSeq(const std::string& first_hash) override {
    const std::string prefix = chainPrefix(first_hash);
    StatusOr<std::optional<std::string>> last = store::runBlocking(client_.lastKey(prefix));
    if (!last.ok()) {
      return last.status();
    }
    if (!last->has_value()) {
      return int64_t{0};
    }
    try {
      return static_cast<int64_t>(std::stoll((*last)->substr(prefix.size())));
    } catch (...) {
      return internalError("audit mirror: a key that is not a sequence number: " + **last);
    }
  }

  Status put(const std::string& first_hash, const AuditEntry& entry) override {
    // Zero-padded, so that the keys sort as the sequence does (lastSeq).
    const std::string key = fmt::format("{}{:020d}", chainPrefix(first_hash), entry.seq);
    const std::string line = ecsLine(entry);
    StatusOr<bool> created = store::runBlocking(client_.createIfAbsent(key, line, 0));
    if (!created.ok()) {
      return created.status();
    }
    if (*created) {
      return okStatus();
    }
    // Already there: a retry after a write whose answer was lost is fine, anything else is not.
    StatusOr<std::optional<store::EtcdKeyValue>> held = store::runBlocking(client_.get(key));
    if (!held.ok()) {
      return held.status();
    }
    if (held->has_value() && (*held)->value == line) {
      return okStatus();
    }
    return failedPrecondition(fmt::format("audit mirror: etcd holds a different entry {} for {}",
                                          entry.seq, options_.instance));
  }

 private:
  std::string chainPrefix(const std::string& first_hash) const {
    return fmt::format("{}/audit/{}/{}/", options_.prefix, options_.instance,
                       first_hash.substr(0, 16));
  }

  EtcdAuditMirrorOptions options_;
  store::EtcdClient client_;
};

}  // namespace

std::unique_ptr<AuditMirror> makeEtcdAuditMirror(EtcdAuditMirrorOptions options) {
  return std::make_unique<EtcdAuditMirror>(std::move(options));
}

}  // namespace dw::security
