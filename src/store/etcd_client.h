// A client of etcd v3 (R9, issue 10) through its JSON gateway (POST /v3/kv/*, /v3/lease/*), the
// API every etcd since 3.4 serves beside gRPC: the few calls the gateways need to share state
// (key-value reads and writes, a compare-and-put transaction, leases) with no gRPC stack.
// Keys and values are bytes, base64 in the JSON. A call tries the endpoints in turn, starting
// with the last that answered, so one etcd member down stops nothing.
//
// Thread contract: coroutines on the caller's executor (the control thread); not shared.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/status.h"
#include "net/asio.h"

namespace dw::store {

namespace asio = net::asio;

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

struct EtcdRange {
  std::vector<EtcdKeyValue> kvs;
  int64_t revision = 0;  // The store's revision when read.
};

class EtcdClient {
 public:
  // `endpoints`: http://host:port of the members.
  EtcdClient(std::vector<std::string> endpoints, Duration timeout = std::chrono::seconds(2));

  asio::awaitable<StatusOr<int64_t>> put(std::string key, std::string value, int64_t lease = 0);
  // The keys with `prefix` changed after `after_revision` (all of them with 0).
  asio::awaitable<StatusOr<EtcdRange>> range(std::string prefix, int64_t after_revision = 0);
  asio::awaitable<StatusOr<std::optional<EtcdKeyValue>>> get(std::string key);
  // The greatest key with `prefix` (by byte order), keys only; nullopt when there is none.
  asio::awaitable<StatusOr<std::optional<std::string>>> lastKey(std::string prefix);
  // Puts `value` at `key` with `lease` only when the key does not exist; true when it did so.
  asio::awaitable<StatusOr<bool>> createIfAbsent(std::string key, std::string value, int64_t lease);
  // Puts only while `guard` holds `guard_value` (a leader's key): false when it does not, so a
  // deposed leader cannot write.
  asio::awaitable<StatusOr<bool>> putIfEquals(std::string guard, std::string guard_value,
                                              std::string key, std::string value);
  asio::awaitable<StatusOr<int64_t>> grantLease(int64_t ttl_seconds);
  // The lease's remaining TTL after the refresh; 0 when it has expired.
  asio::awaitable<StatusOr<int64_t>> keepAlive(int64_t lease);
  asio::awaitable<Status> revoke(int64_t lease);

  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  asio::awaitable<StatusOr<nlohmann::json>> call(std::string path, nlohmann::json body);

  std::vector<std::string> endpoints_;
  Duration timeout_;
  size_t current_ = 0;
};

// Runs one client call to completion on a private io_context: for the rare writes that must be
// durable before an operation is acknowledged (a rollout's state, an audit entry), made from
// threads that are not running the client's coroutines. Blocks for at most the client's timeout
// per member.
template <typename T>
T runBlocking(asio::awaitable<T> call) {
  asio::io_context io;
  std::optional<T> out;
  // The result is kept by the coroutine itself: StatusOr has no default state for co_spawn's
  // completion handler to carry.
  auto keep = [](asio::awaitable<T> op, std::optional<T>* result) -> asio::awaitable<void> {
    result->emplace(co_await std::move(op));
  };
  asio::co_spawn(io, keep(std::move(call), &out), asio::detached);
  io.run();
  if (!out) {
    return T(internalError("etcd: the call ended with an exception"));
  }
  return std::move(*out);
}

// Base64 of etcd's JSON (OpenSSL's codec).
std::string base64Encode(std::string_view bytes);
std::optional<std::string> base64Decode(std::string_view text);
// The smallest key greater than every key with `prefix` (etcd's range_end for a prefix).
std::string prefixEnd(std::string prefix);

}  // namespace dw::store
