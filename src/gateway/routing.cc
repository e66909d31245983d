#include "gateway/routing.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "base/log.h"

namespace dw::gateway {

const ModelRoute* RoutingTable::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

namespace {

// Resolves once, when a replica is first seen (on the control thread, never on a worker).
void resolve(Replica& replica) {
  boost::system::error_code ec;
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(replica.host, std::to_string(replica.port), ec);
  if (!ec && !results.empty()) {
    replica.endpoint = results.begin()->endpoint();
    replica.resolved = true;
  }
}

// Puts the replicas of `zone` (and those with no zone) first, keeping the configured order within
// each group, and counts them; the proxy tries the others only when none of these is usable.
void orderByZone(const std::string& zone, VersionRoute* v) {
  std::vector<size_t> order(v->replicas.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  auto local = [&](size_t i) { return zone.empty() || v->zones[i].empty() || v->zones[i] == zone; };
  auto split = std::stable_partition(order.begin(), order.end(), local);
  v->local_replicas = static_cast<size_t>(split - order.begin());
  std::vector<std::shared_ptr<Replica>> replicas;
  std::vector<std::string> zones;
  for (size_t i : order) {
    replicas.push_back(v->replicas[i]);
    zones.push_back(v->zones[i]);
  }
  v->replicas = std::move(replicas);
  v->zones = std::move(zones);
}

}  // namespace

std::shared_ptr<const security::PiiScanner> Registry::piiScanner(const security::PiiConfig& config,
                                                                 const std::string& mode) {
  std::string key = mode;
  for (const std::string& type : config.types) {
    key += "," + type;
  }
  auto& scanner = pii_scanners_[key];
  if (scanner == nullptr) {
    security::PiiOptions options;
    options.mode = mode == "hash"    ? security::PiiMode::kHash
                   : mode == "block" ? security::PiiMode::kBlock
                                     : security::PiiMode::kMask;
    options.hash_key = config.hash_key;
    for (const std::string& type : config.types) {
      if (auto parsed = security::parsePiiType(type)) {
        options.types.push_back(*parsed);
      }
    }
    auto created = security::PiiScanner::create(std::move(options));
    if (!created.ok()) {
      DW_LOG_ERROR("PII scanner for mode {}: {}", mode, created.status().message());
      return nullptr;
    }
    scanner = *created;
  }
  return scanner;
}

std::shared_ptr<const RoutingTable> Registry::build(const GatewayConfig& config) {
  const std::vector<ModelConfig>& models = config.models;
  auto table = std::make_shared<RoutingTable>();
  table->config_ = config;
  table->generation_ = ++generation_;
  const int64_t created = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  nlohmann::ordered_json list = {{"object", "list"}, {"data", nlohmann::ordered_json::array()}};
  for (const ModelConfig& model : models) {
    auto route = std::make_unique<ModelRoute>();
    auto [id_it, new_model] =
        model_ids_.try_emplace(model.name, static_cast<uint32_t>(model_ids_.size()));
    route->id = id_it->second;
    route->config = model;
    if (config.security.pii.enabled) {
      auto policy = config.security.pii.models.find(model.name);
      route->pii_policy = policy != config.security.pii.models.end() ? policy->second
                                                                     : config.security.pii.defaults;
      route->pii = piiScanner(config.security.pii, route->pii_policy.mode);
    }
    for (const VersionConfig& version : model.versions) {
      VersionRoute v;
      v.id = version.id;
      v.track = version.track;
      v.weight = version.weight;
      v.upstream_model = version.upstream_model;
      for (const ReplicaConfig& rc : version.replicas) {
        auto& replica = replicas_[rc.url];
        if (!replica) {
          replica = std::make_shared<Replica>();
          replica->id = static_cast<uint32_t>(replicas_.size() - 1);
          replica->url = rc.url;
          replica->host = rc.host;
          replica->port = rc.port;
          replica->host_header = rc.host + ":" + std::to_string(rc.port);
          replica->path_prefix = rc.path_prefix;
        }
        if (!replica->resolved) {
          resolve(*replica);
        }
        v.replicas.push_back(replica);
        v.zones.push_back(rc.zone);
        table->max_replica_id_ = std::max(table->max_replica_id_, replica->id);
      }
      orderByZone(config.zone, &v);
      route->versions.push_back(std::move(v));
    }
    table->max_model_id_ = std::max(table->max_model_id_, route->id);
    table->by_name_[model.name] = route.get();
    for (const std::string& alias : model.aliases) {
      table->by_name_[alias] = route.get();
    }
    std::vector<std::string> names = {model.name};
    names.insert(names.end(), model.aliases.begin(), model.aliases.end());
    for (const std::string& name : names) {
      list["data"].push_back(
          {{"id", name}, {"object", "model"}, {"created", created}, {"owned_by", "deepwatch"}});
    }
    table->models_.push_back(std::move(route));
  }
  table->model_list_json_ = list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return table;
}

std::vector<std::shared_ptr<Replica>> Registry::replicas() const {
  std::vector<std::shared_ptr<Replica>> out;
  for (const auto& [url, replica] : replicas_) {
    out.push_back(replica);
  }
  return out;
}

}  // namespace dw::gateway
