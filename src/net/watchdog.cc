#include "net/watchdog.h"

namespace dw::net {

Watched::~Watched() { detach(); }

void Watched::attach(Watchdog& watchdog) {
  detach();
  watchdog_ = &watchdog;
  next_ = watchdog.head_;
  prev_ = nullptr;
  if (next_ != nullptr) {
    next_->prev_ = this;
  }
  watchdog.head_ = this;
}

void Watched::detach() {
  if (watchdog_ == nullptr) {
    return;
  }
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    watchdog_->head_ = next_;
  }
  if (next_ != nullptr) {
    next_->prev_ = prev_;
  }
  watchdog_ = nullptr;
  prev_ = next_ = nullptr;
}

void Watched::arm(Duration timeout) {
  timed_out_ = false;
  if (watchdog_ == nullptr || timeout == Duration::max()) {
    deadline_ = Clock::time_point::max();
    return;
  }
  deadline_ = watchdog_->now() + timeout;
}

Watchdog::Watchdog(asio::io_context& io, Duration tick)
    : timer_(io), tick_(tick), now_(Watched::Clock::now()) {}

void Watchdog::start() {
  running_ = true;
  now_ = Watched::Clock::now();
  tick();
}

void Watchdog::stop() {
  running_ = false;
  timer_.cancel();
}

void Watchdog::tick() {
  if (!running_) {
    return;
  }
  now_ = Watched::Clock::now();
  for (Watched* w = head_; w != nullptr; w = w->next_) {
    if (w->deadline_ <= now_) {
      w->deadline_ = Watched::Clock::time_point::max();
      w->timed_out_ = true;
      error_code ignored;
      w->socket_->cancel(ignored);
    }
  }
  for (const auto& handler : handlers_) {
    handler();
  }
  timer_.expires_after(tick_);
  timer_.async_wait([this](const error_code& ec) {
    if (!ec) {
      tick();
    }
  });
}

}  // namespace dw::net
