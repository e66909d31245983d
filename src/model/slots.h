// Bounded concurrency with a bounded FIFO waiting queue: the reference model's stand-in for an
// engine's batch slots and scheduler queue (what vLLM reports as running and waiting).
//
// Thread contract: worker-local; every call on the io_context's single thread.
#pragma once

#include <deque>
#include <memory>

#include "net/asio.h"

namespace dw::model {

class Slots {
 public:
  Slots(int capacity, int max_waiting)
      : free_(capacity), capacity_(capacity), max_waiting_(max_waiting) {}

  // Takes a slot, waiting in line for one when all are busy. Returns false, without a slot, when
  // the line is already max_waiting long.
  net::asio::awaitable<bool> acquire();
  // Returns a slot; the longest waiter gets it.
  void release();

  int running() const { return capacity_ - free_; }
  int waiting() const { return static_cast<int>(waiters_.size()); }
  int capacity() const { return capacity_; }

 private:
  int free_;
  int capacity_;
  int max_waiting_;
  // A waiter sleeps on its timer until release() cancels it, which hands it the slot.
  std::deque<std::shared_ptr<net::asio::steady_timer>> waiters_;
};

}  // namespace dw::model
