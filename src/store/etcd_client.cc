#include "store/etcd_client.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include "net/http_client.h"

namespace dw::store {
namespace {

using json = nlohmann::json;

// grpc-gateway writes int64 fields as strings.
int64_t int64Of(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) {
    return 0;
  }
  if (it->is_number_integer()) {
    return it->get<int64_t>();
  }
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

StatusOr<EtcdKeyValue> keyValueOf(const json& kv) {
  EtcdKeyValue out;
  auto key = base64Decode(kv.value("key", ""));
  auto value = base64Decode(kv.value("value", ""));
  if (!key || !value) {
    return internalError("etcd: a key or value is not base64");
  }
  out.key = std::move(*key);
  out.value = std::move(*value);
  out.mod_revision = int64Of(kv, "mod_revision");
  out.lease = int64Of(kv, "lease");
  return out;
}

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t size = static_cast<size_t>(n);
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
    --size;
  }
  out.resize(size);
  return out;
}

std::string prefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    if (static_cast<unsigned char>(prefix.back()) < 0xff) {
      prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // Every key.
}

EtcdClient::EtcdClient(std::vector<std::string> endpoints, Duration timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {}

asio::awaitable<StatusOr<json>> EtcdClient::call(std::string path, json body) {
  const std::string text = body.dump();
  Status last = unavailable("etcd: no endpoint");
  for (size_t tried = 0; tried < endpoints_.size(); ++tried) {
    const size_t index = (current_ + tried) % endpoints_.size();
    StatusOr<net::HttpAnswer> answer =
        co_await net::httpCallAsync("POST", endpoints_[index] + path, text, timeout_);
    if (!answer.ok()) {
      last = answer.status();
      continue;
    }
    json reply = json::parse(answer->body, nullptr, false);
    if (answer->status != 200 || reply.is_discarded()) {
      // A member without a quorum answers 503-like errors: try another.
      last = unavailable(fmt::format("etcd {}{}: HTTP {} {}", endpoints_[index], path,
                                     answer->status, answer->body.substr(0, 200)));
      continue;
    }
    current_ = index;
    co_return reply;
  }
  co_return last;
}

asio::awaitable<StatusOr<int64_t>> EtcdClient::put(std::string key, std::string value,
                                                   int64_t lease) {
  json body = {{"key", base64Encode(key)}, {"value", base64Encode(value)}};
  if (lease != 0) {
    body["lease"] = std::to_string(lease);
  }
  StatusOr<json> reply = co_await call("/v3/kv/put", std::move(body));
  if (!reply.ok()) {
    co_return reply.status();
  }
  co_return int64Of(reply->value("header", json::object()), "revision");
}

asio::awaitable<StatusOr<EtcdRange>> EtcdClient::range(std::string prefix, int64_t after_revision) {
  json body = {{"key", base64Encode(prefix)}, {"range_end", base64Encode(prefixEnd(prefix))}};
  if (after_revision > 0) {
    body["min_mod_revision"] = std::to_string(after_revision + 1);
  }
  StatusOr<json> reply = co_await call("/v3/kv/range", std::move(body));
  if (!reply.ok()) {
    co_return reply.status();
  }
  EtcdRange out;
  out.revision = int64Of(reply->value("header", json::object()), "revision");
  for (const json& kv : reply->value("kvs", json::array())) {
    StatusOr<EtcdKeyValue> parsed = keyValueOf(kv);
    if (!parsed.ok()) {
      co_return parsed.status();
    }
    out.kvs.push_back(std::move(parsed).value());
  }
  co_return out;
}

asio::awaitable<StatusOr<std::optional<EtcdKeyValue>>> EtcdClient::get(std::string key) {
  // Bodies are built before co_await: g++ 12 mishandles braced temporaries inside it.
  json body = {{"key", base64Encode(key)}};
  StatusOr<json> reply = co_await call("/v3/kv/range", std::move(body));
  if (!reply.ok()) {
    co_return reply.status();
  }
  const json kvs = reply->value("kvs", json::array());
  if (kvs.empty()) {
    co_return std::optional<EtcdKeyValue>();
  }
  StatusOr<EtcdKeyValue> parsed = keyValueOf(kvs.front());
  if (!parsed.ok()) {
    co_return parsed.status();
  }
  co_return std::optional<EtcdKeyValue>(std::move(parsed).value());
}

asio::awaitable<StatusOr<std::optional<std::string>>> EtcdClient::lastKey(std::string prefix) {
  json body = {{"key", base64Encode(prefix)},
               {"range_end", base64Encode(prefixEnd(prefix))},
               {"sort_order", "DESCEND"},
               {"sort_target", "KEY"},
               {"limit", "1"},
               {"keys_only", true}};
  StatusOr<json> reply = co_await call("/v3/kv/range", std::move(body));
  if (!reply.ok()) {
    co_return reply.status();
  }
  const json kvs = reply->value("kvs", json::array());
  if (kvs.empty()) {
    co_return std::optional<std::string>();
  }
  auto key = base64Decode(kvs.front().value("key", ""));
  if (!key) {
    co_return internalError("etcd: a key is not base64");
  }
  co_return std::optional<std::string>(std::move(*key));
}

asio::awaitable<StatusOr<bool>> EtcdClient::createIfAbsent(std::string key, std::string value,
                                                           int64_t lease) {
  const std::string k = base64Encode(key);
  json put = {{"key", k}, {"value", base64Encode(value)}};
  if (lease != 0) {
    put["lease"] = std::to_string(lease);
  }
  json body = {
      {"compare", json::array({{{"key", k}, {"target", "CREATE"}, {"create_revision", "0"}}})},
      {"success", json::array({{{"request_put", put}}})}};
  StatusOr<json> reply = co_await call("/v3/kv/txn", std::move(body));
  if (!reply.ok()) {
    co_return reply.status();
  }
  co_return reply->value("succeeded", false);
}

asio::awaitable<StatusOr<bool>> EtcdClient::putIfEquals(std::string guard, std::string guard_value,
                                                        std::string key, std::string value) {
  json body = {
      {"compare", json::array({{{"key", base64Encode(guard)},
                                {"target", "VALUE"},
                                {"value", base64Encode(guard_value)}}})},
      {"success", json::array({{{"request_put",
                                 {{"key", base64Encode(key)}, {"value", base64Encode(value)}}}}})}};
  StatusOr<json> reply = co_await call("/v3/kv/txn", std::move(body));
  if (!reply.ok()) {
    co_return reply.status();
  }
  co_return reply->value("succeeded", false);
}

asio::awaitable<StatusOr<int64_t>> EtcdClient::grantLease(int64_t ttl_seconds) {
  json body = {{"TTL", ttl_seconds}};
  StatusOr<json> reply = co_await call("/v3/lease/grant", std::move(body));
  if (!reply.ok()) {
    co_return reply.status();
  }
  const int64_t id = int64Of(*reply, "ID");
  if (id == 0) {
    co_return unavailable("etcd: no lease granted: " + reply->dump().substr(0, 200));
  }
  co_return id;
}

asio::awaitable<StatusOr<int64_t>> EtcdClient::keepAlive(int64_t lease) {
  json body = {{"ID", std::to_string(lease)}};
  StatusOr<json> reply = co_await call("/v3/lease/keepalive", std::move(body));
  if (!reply.ok()) {
    co_return reply.status();
  }
  co_return int64Of(reply->value("result", json::object()), "TTL");
}

asio::awaitable<Status> EtcdClient::revoke(int64_t lease) {
  json body = {{"ID", std::to_string(lease)}};
  StatusOr<json> reply = co_await call("/v3/lease/revoke", std::move(body));
  co_return reply.ok() ? okStatus() : reply.status();
}

}  // namespace dw::store
