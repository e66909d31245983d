#include "control/cluster.h"

#include <fmt/format.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "store/etcd_state_store.h"

namespace dw::control {
namespace {

using json = nlohmann::json;

std::string defaultName(const gateway::Gateway& gateway) {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) {
    std::snprintf(host, sizeof(host), "gateway");
  }
  return fmt::format("{}:{}", host, gateway.adminPort());
}

asio::awaitable<void> sleepFor(Duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  boost::system::error_code ec;
  co_await timer.async_wait(net::redirect(ec));
}

std::optional<gateway::Track> trackOf(std::string_view name) {
  for (gateway::Track t :
       {gateway::Track::kStable, gateway::Track::kCanary, gateway::Track::kStandby}) {
    if (gateway::trackName(t) == name) {
      return t;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string routesDocument(const gateway::ModelConfig& model) {
  json versions = json::object();
  for (const gateway::VersionConfig& v : model.versions) {
    versions[v.id] = {{"track", gateway::trackName(v.track)}, {"weight", v.weight}};
  }
  return json{{"versions", versions}}.dump();
}

Cluster::Cluster(gateway::Gateway& gateway, ClusterConfig config)
    : gateway_(gateway),
      config_(std::move(config)),
      etcd_(config_.etcd,
            std::max<Duration>(config_.lease_ttl / 4, std::chrono::milliseconds(500))),
      leader_key_(config_.prefix + "/leader"),
      routes_prefix_(config_.prefix + "/routes/"),
      access_prefix_(config_.prefix + "/access/"),
      blocking_etcd_(config_.etcd) {
  if (config_.name.empty()) {
    config_.name = defaultName(gateway);
  }
}

std::unique_ptr<store::StateStore> Cluster::stateStore() const {
  return store::makeEtcdStateStore({.endpoints = config_.etcd,
                                    .prefix = config_.prefix,
                                    .guard_key = leader_key_,
                                    .guard_value = config_.name});
}

void Cluster::attach() {
  // Before the gateway serves: a change made before the first tick is shared too.
  gateway_.addRoutesHook([this](const gateway::GatewayConfig& config) { onLocalChange(config); });
  gateway_.access().setShareHook([this](const std::string& item, const std::string& document) {
    return shareAccess(item, document);
  });
}

void Cluster::start() {
  running_ = true;
  asio::co_spawn(gateway_.controlContext(), electionLoop(), asio::detached);
  asio::co_spawn(gateway_.controlContext(), syncLoop(), asio::detached);
  DW_LOG_INFO("cluster: {} joins through etcd {} under {}", config_.name,
              fmt::join(config_.etcd, ","), config_.prefix);
}

void Cluster::stop() {
  running_ = false;
  leader_.store(false);
}

asio::awaitable<void> Cluster::electionLoop() {
  const auto ttl_s = std::chrono::duration_cast<std::chrono::seconds>(config_.lease_ttl).count();
  while (running_) {
    if (lease_ == 0) {
      StatusOr<int64_t> lease = co_await etcd_.grantLease(ttl_s);
      if (lease.ok()) {
        lease_ = *lease;
        last_renewed_ = std::chrono::steady_clock::now();
      } else {
        DW_LOG_WARN("cluster: no lease from etcd: {}", lease.status().message());
      }
    } else {
      StatusOr<int64_t> ttl = co_await etcd_.keepAlive(lease_);
      if (ttl.ok() && *ttl > 0) {
        last_renewed_ = std::chrono::steady_clock::now();
      } else if (ttl.ok() || std::chrono::steady_clock::now() - last_renewed_ > config_.lease_ttl) {
        // Expired, or unrenewed for a whole TTL: whatever etcd decided, this instance no longer
        // holds the lease, so it stops leading before another may start.
        if (leader_.exchange(false)) {
          DW_LOG_WARN("cluster: {} lost its lease and no longer leads", config_.name);
        }
        lease_ = 0;
        continue;
      }
    }
    if (lease_ != 0) {
      StatusOr<bool> created = co_await etcd_.createIfAbsent(leader_key_, config_.name, lease_);
      StatusOr<std::optional<store::EtcdKeyValue>> holder = co_await etcd_.get(leader_key_);
      if (holder.ok()) {
        const bool mine =
            holder->has_value() && (*holder)->value == config_.name && (*holder)->lease == lease_;
        leader_name_ = holder->has_value() ? (*holder)->value : "";
        if (mine != leader_.exchange(mine)) {
          DW_LOG_WARN("cluster: {} {}", config_.name, mine ? "leads" : "follows " + leader_name_);
        }
      }
      (void)created;
    }
    co_await sleepFor(config_.lease_ttl / 3 < std::chrono::seconds(1) ? config_.lease_ttl / 3
                                                                      : std::chrono::seconds(1));
  }
  if (lease_ != 0) {
    (void)co_await etcd_.revoke(lease_);
  }
}

asio::awaitable<void> Cluster::syncLoop() {
  bool first = true;
  while (running_) {
    StatusOr<store::EtcdRange> changed = co_await etcd_.range(routes_prefix_, revision_);
    if (changed.ok()) {
      for (const store::EtcdKeyValue& kv : changed->kvs) {
        apply(kv.key.substr(routes_prefix_.size()), kv.value);
      }
      if (first) {
        // Models that no instance shared yet: this one's routes are the first word.
        for (const gateway::ModelConfig& model : gateway_.config().models) {
          if (!known_.contains(model.name)) {
            co_await publish(model.name, routesDocument(model));
          }
        }
        first = false;
        synced_ = true;
      }
      revision_ = std::max(revision_, changed->revision);
    } else {
      DW_LOG_WARN("cluster: reading the shared routes: {}", changed.status().message());
    }
    // Changes a failed write kept back, unless a newer one of the same model went since.
    std::map<std::string, std::string> unsent;
    unsent.swap(unsent_);
    for (auto& [model, document] : unsent) {
      if (known_[model] == document) {
        co_await publish(model, std::move(document));
      }
    }
    StatusOr<store::EtcdRange> access = co_await etcd_.range(access_prefix_, access_revision_);
    if (access.ok()) {
      for (const store::EtcdKeyValue& kv : access->kvs) {
        const std::string item = kv.key.substr(access_prefix_.size());
        if (Status s = gateway_.access().applyShared(item, kv.value); !s.ok()) {
          DW_LOG_WARN("cluster: the shared {} is not applied: {}", item, s.message());
        }
      }
      access_revision_ = std::max(access_revision_, access->revision);
    } else {
      DW_LOG_WARN("cluster: reading the shared keys and roles: {}", access.status().message());
    }
    co_await sleepFor(config_.poll);
  }
}

void Cluster::apply(const std::string& model_name, const std::string& document) {
  auto it = known_.find(model_name);
  if (it != known_.end() && it->second == document) {
    return;  // What this instance sent or applied already.
  }
  json doc = json::parse(document, nullptr, false);
  if (doc.is_discarded() || !doc.contains("versions") || !doc["versions"].is_object()) {
    DW_LOG_WARN("cluster: ignoring malformed routes of {}", model_name);
    return;
  }
  applying_ = true;
  Status status = gateway_.mutate(
      [&](gateway::GatewayConfig& config) -> Status {
        for (gateway::ModelConfig& m : config.models) {
          if (m.name != model_name) {
            continue;
          }
          for (gateway::VersionConfig& v : m.versions) {
            auto entry = doc["versions"].find(v.id);
            if (entry == doc["versions"].end() || !entry->is_object()) {
              continue;
            }
            if (auto track = trackOf(entry->value("track", "")); track) {
              v.track = *track;
            }
            if (entry->contains("weight") && (*entry)["weight"].is_number()) {
              v.weight = (*entry)["weight"].get<double>();
            }
          }
        }
        return okStatus();
      },
      /*notify=*/false);
  applying_ = false;
  if (status.ok()) {
    known_[model_name] = document;
    DW_LOG_INFO("cluster: routes of {} updated from etcd", model_name);
  } else {
    DW_LOG_WARN("cluster: routes of {} from etcd not applied: {}", model_name, status.message());
  }
}

void Cluster::onLocalChange(const gateway::GatewayConfig& config) {
  if (applying_ || !synced_) {
    // Before the first read of the shared routes, the cluster's routes win: a gateway that
    // restarts must not push what its own state file remembers over newer decisions.
    return;
  }
  for (const gateway::ModelConfig& model : config.models) {
    std::string document = routesDocument(model);
    auto it = known_.find(model.name);
    if (it == known_.end() || it->second != document) {
      asio::co_spawn(gateway_.controlContext(), publish(model.name, std::move(document)),
                     asio::detached);
    }
  }
}

asio::awaitable<void> Cluster::publish(std::string model, std::string document) {
  known_[model] = document;
  unsent_.erase(model);
  const std::string key = routes_prefix_ + model;
  if (leader()) {
    // The leader's decisions are written only while it still holds the leader key.
    StatusOr<bool> written = co_await etcd_.putIfEquals(leader_key_, config_.name, key, document);
    if (written.ok() && !*written) {
      leader_.store(false);
      DW_LOG_WARN("cluster: {} is no longer the leader; its change of {} was not shared",
                  config_.name, model);
    } else if (!written.ok()) {
      DW_LOG_WARN("cluster: sharing the routes of {}: {}", model, written.status().message());
      unsent_[model] = document;  // etcd without a quorum for a moment: sent again next poll.
    }
    co_return;
  }
  StatusOr<int64_t> written = co_await etcd_.put(key, document);
  if (!written.ok()) {
    DW_LOG_WARN("cluster: sharing the routes of {}: {}", model, written.status().message());
    unsent_[model] = document;
  }
}

Status Cluster::shareAccess(const std::string& item, const std::string& document) {
  // On the control thread, inside the admin request that makes the change: it is acknowledged
  // only once etcd's quorum has it. Any instance may write (last writer wins per item).
  StatusOr<int64_t> written =
      store::runBlocking(blocking_etcd_.put(access_prefix_ + item, document));
  return written.ok() ? okStatus() : written.status();
}

gateway::Gateway::AdminReply Cluster::handle() const {
  json out = {{"name", config_.name},
              {"leader", leader_name_},
              {"is_leader", leader()},
              {"etcd", config_.etcd},
              {"prefix", config_.prefix},
              {"lease_ttl_seconds",
               std::chrono::duration_cast<std::chrono::seconds>(config_.lease_ttl).count()},
              {"revision", revision_}};
  return {200, out.dump()};
}

}  // namespace dw::control
