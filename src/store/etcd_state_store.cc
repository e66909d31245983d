#include "store/etcd_state_store.h"

#include "store/etcd_client.h"

namespace dw::store {
namespace {

class EtcdStateStore final : public StateStore {
 public:
  explicit EtcdStateStore(EtcdStateOptions options)
      : options_(std::move(options)), client_(options_.endpoints, options_.timeout) {}

  Status put(const std::string& kind, const std::string& key,
             const std::string& document) override {
    StatusOr<bool> written = runBlocking(
        client_.putIfEquals(options_.guard_key, options_.guard_value, keyOf(kind, key), document));
    if (!written.ok()) {
      return written.status();
    }
    if (!*written) {
      return failedPrecondition("this gateway no longer leads the cluster, so it may not write " +
                                kind + " '" + key + "'");
    }
    return okStatus();
  }

  StatusOr<std::map<std::string, std::string>> list(const std::string& kind) override {
    const std::string prefix = options_.prefix + "/state/" + kind + "/";
    StatusOr<EtcdRange> range = runBlocking(client_.range(prefix));
    if (!range.ok()) {
      return range.status();
    }
    std::map<std::string, std::string> out;
    for (EtcdKeyValue& kv : range->kvs) {
      out.emplace(kv.key.substr(prefix.size()), std::move(kv.value));
    }
    return out;
  }

  std::string_view backend() const override { return "etcd"; }

 private:
  std::string keyOf(const std::string& kind, const std::string& key) const {
    return options_.prefix + "/state/" + kind + "/" + key;
  }

  EtcdStateOptions options_;
  EtcdClient client_;
};

}  // namespace

std::unique_ptr<StateStore> makeEtcdStateStore(EtcdStateOptions options) {
  return std::make_unique<EtcdStateStore>(std::move(options));
}

}  // namespace dw::store
