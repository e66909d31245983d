#include "gateway/route_persistence.h"

#include <algorithm>

#include "base/log.h"

namespace dw::gateway {

namespace {

std::optional<Track> trackOf(std::string_view name) {
  for (Track t : {Track::kStable, Track::kCanary, Track::kStandby}) {
    if (trackName(t) == name) {
      return t;
    }
  }
  return std::nullopt;
}

const store::RouteRow* findRow(const std::vector<store::RouteRow>& rows, const std::string& model,
                               const std::string& version) {
  auto it = std::find_if(rows.begin(), rows.end(), [&](const store::RouteRow& r) {
    return r.model == model && r.version == version;
  });
  return it == rows.end() ? nullptr : &*it;
}

}  // namespace

StatusOr<RoutePersistence> RoutePersistence::open(store::Database& db) {
  DW_ASSIGN_OR_RETURN(store::RouteStore store, store::RouteStore::open(db));
  return RoutePersistence(std::move(store));
}

std::vector<store::RouteRow> RoutePersistence::rows(const GatewayConfig& config,
                                                    const std::vector<store::RouteRow>& file) {
  std::vector<store::RouteRow> out;
  for (const ModelConfig& model : config.models) {
    for (const VersionConfig& version : model.versions) {
      store::RouteRow row{model.name,
                          version.id,
                          std::string(trackName(version.track)),
                          version.weight,
                          std::string(trackName(version.track)),
                          version.weight};
      if (const store::RouteRow* f = findRow(file, model.name, version.id)) {
        row.file_track = f->track;
        row.file_weight = f->weight;
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

StatusOr<int> RoutePersistence::restore(GatewayConfig& config) {
  file_ = rows(config, {});
  DW_ASSIGN_OR_RETURN(stored_, store_.load());
  int restored = 0;
  for (ModelConfig& model : config.models) {
    std::vector<VersionConfig> versions = model.versions;
    int changed = 0;
    for (VersionConfig& version : versions) {
      const store::RouteRow* s = findRow(stored_, model.name, version.id);
      const std::optional<Track> track = s != nullptr ? trackOf(s->track) : std::nullopt;
      // Only over the file it was stored against: an edit of the file since then wins.
      if (track && s->file_track == trackName(version.track) && s->file_weight == version.weight &&
          (*track != version.track || s->weight != version.weight)) {
        version.track = *track;
        version.weight = s->weight;
        ++changed;
      }
    }
    double primary = 0;
    for (const VersionConfig& v : versions) {
      primary += v.track == Track::kStandby ? 0 : v.weight;
    }
    if (changed > 0 && primary > 0) {
      model.versions = std::move(versions);
      restored += changed;
    }
  }
  if (restored > 0) {
    DW_LOG_INFO("restored the track or weight of {} versions from the state file", restored);
  }
  return restored;
}

Status RoutePersistence::save(const GatewayConfig& next) {
  std::vector<store::RouteRow> wanted = rows(next, file_);
  if (wanted == stored_) {
    return okStatus();  // Launched replicas and the like change no routing.
  }
  if (Status s = store_.replace(wanted); !s.ok()) {
    return unavailable("the state file cannot be written, so the routing was not changed: " +
                       s.message());
  }
  stored_ = std::move(wanted);
  return okStatus();
}

}  // namespace dw::gateway
