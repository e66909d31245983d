// Coarse timeouts for a worker's sockets without a timer per operation.
//
// A timer per read or write (as beast::tcp_stream keeps) re-arms the worker's timer queue, and
// often its timerfd, on every operation: system calls on the hot path. Instead each watched
// socket carries a deadline that an operation sets with a plain store, and one periodic tick
// per worker cancels the sockets whose deadline has passed, as nginx's timer tree does with its
// cached clock. Timeouts are accurate to one tick (100 ms by default), which is plenty for
// limits measured in seconds.
//
// Thread contract: worker-local. Every method runs on the io_context's single thread.
#pragma once

#include <functional>
#include <vector>

#include <chrono>

#include "base/duration.h"
#include "net/asio.h"

namespace dw::net {

class Watchdog;

// One watched socket. Embedded in the object that owns the socket; must be removed (or its
// Watchdog stopped) before the socket is destroyed.
class Watched {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Watched(tcp::socket& socket) : socket_(&socket) {}
  Watched(const Watched&) = delete;
  Watched& operator=(const Watched&) = delete;
  ~Watched();

  // Starts watching on `watchdog`; the socket is cancelled if an armed deadline passes.
  void attach(Watchdog& watchdog);
  void detach();

  // Arms a deadline `timeout` from the watchdog's cached now (Duration::max(): none).
  void arm(Duration timeout);
  void disarm() { deadline_ = Clock::time_point::max(); }
  // True once the watchdog cancelled the socket for its deadline; cleared by arm().
  bool timedOut() const { return timed_out_; }

 private:
  friend class Watchdog;
  tcp::socket* socket_;
  Watchdog* watchdog_ = nullptr;
  Watched* prev_ = nullptr;
  Watched* next_ = nullptr;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool timed_out_ = false;
};

class Watchdog {
 public:
  explicit Watchdog(asio::io_context& io, Duration tick = std::chrono::milliseconds(100));

  // Starts the periodic tick; stop() ends it so that the io_context can run out of work.
  void start();
  void stop();

  // The clock as of the last tick (or start()), which deadlines are measured from.
  Watched::Clock::time_point now() const { return now_; }
  // Runs `handler` after every tick, on the worker's thread (housekeeping such as closing idle
  // pooled connections). Register before start(); the handler must outlive the ticks.
  void addTickHandler(std::function<void()> handler) { handlers_.push_back(std::move(handler)); }

 private:
  friend class Watched;
  void tick();

  asio::steady_timer timer_;
  Duration tick_;
  Watched::Clock::time_point now_;
  Watched* head_ = nullptr;
  bool running_ = false;
  std::vector<std::function<void()>> handlers_;
};

}  // namespace dw::net
