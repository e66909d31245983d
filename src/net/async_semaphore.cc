#include "net/async_semaphore.h"

#include <algorithm>

namespace dw::net {

asio::awaitable<AsyncSemaphore::Outcome> AsyncSemaphore::acquire(Duration max_wait) {
  if (free_ > 0 && waiters_.empty()) {
    --free_;
    co_return Outcome::kAcquired;
  }
  if (static_cast<int>(waiters_.size()) >= max_waiting_) {
    co_return Outcome::kQueueFull;
  }
  auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor);
  if (max_wait == Duration::max()) {
    waiter->timer.expires_at(asio::steady_timer::time_point::max());
  } else {
    waiter->timer.expires_after(max_wait);
  }
  waiters_.push_back(waiter);
  error_code ignored;
  co_await waiter->timer.async_wait(redirect(ignored));
  if (waiter->granted) {
    co_return Outcome::kAcquired;  // release() passed its permit straight to us.
  }
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), waiter));
  co_return Outcome::kTimedOut;
}

void AsyncSemaphore::grantNext() {
  auto next = std::move(waiters_.front());
  waiters_.pop_front();
  next->granted = true;
  next->timer.cancel();
}

void AsyncSemaphore::release() {
  if (!waiters_.empty() && free_ >= 0) {
    grantNext();
    return;
  }
  ++free_;
}

void AsyncSemaphore::resize(int capacity, int max_waiting) {
  free_ += capacity - capacity_;
  capacity_ = capacity;
  max_waiting_ = max_waiting;
  while (free_ > 0 && !waiters_.empty()) {
    --free_;
    grantNext();
  }
}

}  // namespace dw::net
