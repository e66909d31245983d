#include "model/slots.h"

namespace dw::model {

net::asio::awaitable<bool> Slots::acquire() {
  if (free_ > 0 && waiters_.empty()) {
    --free_;
    co_return true;
  }
  if (static_cast<int>(waiters_.size()) >= max_waiting_) {
    co_return false;
  }
  auto executor = co_await net::asio::this_coro::executor;
  auto timer = std::make_shared<net::asio::steady_timer>(executor);
  timer->expires_at(net::asio::steady_timer::time_point::max());
  waiters_.push_back(timer);
  net::error_code ignored;
  co_await timer->async_wait(net::redirect(ignored));
  // Woken by release(), which passed its slot straight to us.
  co_return true;
}

void Slots::release() {
  if (!waiters_.empty()) {
    auto next = std::move(waiters_.front());
    waiters_.pop_front();
    next->cancel();
    return;
  }
  ++free_;
}

}  // namespace dw::model
