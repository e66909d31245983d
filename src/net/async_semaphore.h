// A counting semaphore for coroutines with a bounded FIFO waiting line: bounded concurrency for
// the reference model's generation slots and the gateway's per-model limits.
//
// Thread contract: worker-local; every call on the io_context's single thread. Shared-nothing by
// design: a limit that spans workers is split between them (docs/design/limits.md).
#pragma once

#include <deque>
#include <memory>

#include "base/duration.h"
#include "net/asio.h"

namespace dw::net {

class AsyncSemaphore {
 public:
  enum class Outcome { kAcquired, kQueueFull, kTimedOut };

  AsyncSemaphore(int capacity, int max_waiting)
      : free_(capacity), capacity_(capacity), max_waiting_(max_waiting) {}

  // Takes a permit, waiting in line for one when none is free. Without a permit it returns
  // kQueueFull at once when the line is already max_waiting long, or kTimedOut after max_wait.
  asio::awaitable<Outcome> acquire(Duration max_wait = Duration::max());
  // Returns a permit; the longest waiter gets it.
  void release();

  // Changes the capacity; permits in use stay valid, and waiters are admitted if it grew.
  void resize(int capacity, int max_waiting);

  int inUse() const { return capacity_ - free_; }
  int waiting() const { return static_cast<int>(waiters_.size()); }
  int capacity() const { return capacity_; }

 private:
  struct Waiter {
    explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
    asio::steady_timer timer;
    bool granted = false;
  };

  void grantNext();

  int free_;  // May go negative after a shrink, until enough permits come back.
  int capacity_;
  int max_waiting_;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace dw::net
