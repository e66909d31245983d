// Publication of immutable snapshots from the control thread to the workers (read-copy-update;
// docs/design/routing-snapshot.md). The control thread publishes a whole new value; a worker
// checks one atomic generation per request and takes a new reference only when it changed, so
// the hot path neither locks nor touches a shared reference count in the common case.
//
// Thread contract: publish() from the control thread; SnapshotReader is worker-local.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

namespace dw::gateway {

template <typename T>
class SnapshotSlot {
 public:
  void publish(std::shared_ptr<const T> value) {
    {
      std::lock_guard lock(mutex_);
      value_ = std::move(value);
    }
    generation_.fetch_add(1, std::memory_order_release);
  }

  std::shared_ptr<const T> load() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;  // Taken only when a snapshot changes, never per request.
  std::shared_ptr<const T> value_;
  std::atomic<uint64_t> generation_{0};
};

template <typename T>
class SnapshotReader {
 public:
  explicit SnapshotReader(const SnapshotSlot<T>& slot) : slot_(slot) {}

  // The newest snapshot. A request copies the shared_ptr to keep its snapshot to the end.
  const std::shared_ptr<const T>& current() {
    const uint64_t generation = slot_.generation();
    if (generation != seen_) {
      seen_ = generation;
      value_ = slot_.load();
    }
    return value_;
  }

 private:
  const SnapshotSlot<T>& slot_;
  uint64_t seen_ = 0;
  std::shared_ptr<const T> value_;
};

}  // namespace dw::gateway
