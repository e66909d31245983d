#include "net/watchdog.h"

#include <array>
#include <chrono>
#include <memory>
#include <optional>

#include <gtest/gtest.h>

#include "net/asio.h"

namespace dw::net {
namespace {

using std::chrono::milliseconds;

// A connected pair of loopback sockets, the listening port chosen by the OS.
struct SocketPair {
  explicit SocketPair(asio::io_context& io) : client(io), server(io) {
    tcp::acceptor acceptor(io);
    error_code ec;
    acceptor.open(tcp::v4(), ec);
    EXPECT_FALSE(ec) << ec.message();
    acceptor.bind(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0), ec);
    EXPECT_FALSE(ec) << ec.message();
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    EXPECT_FALSE(ec) << ec.message();
    client.connect(acceptor.local_endpoint(), ec);
    EXPECT_FALSE(ec) << ec.message();
    acceptor.accept(server, ec);
    EXPECT_FALSE(ec) << ec.message();
  }

  tcp::socket client;
  tcp::socket server;
};

// The outcome of one pending read.
struct ReadResult {
  std::optional<error_code> ec;
  size_t bytes = 0;
  std::array<char, 16> buffer{};
};

class WatchdogTest : public ::testing::Test {
 protected:
  // Starts a read on `socket` that records its outcome in `result`.
  static void startRead(tcp::socket& socket, std::shared_ptr<ReadResult> result) {
    socket.async_read_some(asio::buffer(result->buffer),
                           [result](const error_code& ec, size_t bytes) {
                             result->ec = ec;
                             result->bytes = bytes;
                           });
  }

  // After `delay`, writes one byte on `writer` (completing a read that was not cancelled) and
  // stops the watchdog so that io_.run() returns.
  void finishAfter(Duration delay, tcp::socket& writer) {
    auto timer = std::make_shared<asio::steady_timer>(io_, delay);
    tcp::socket* socket = &writer;
    timer->async_wait([timer, this, socket](const error_code&) {
      error_code ignored;
      asio::write(*socket, asio::buffer("x", 1), ignored);
      watchdog_.stop();
    });
  }

  asio::io_context io_;
  Watchdog watchdog_{io_, milliseconds(10)};
};

TEST_F(WatchdogTest, CancelsReadWhoseDeadlinePassed) {
  SocketPair pair(io_);
  Watched watched(pair.server);
  watched.attach(watchdog_);
  watchdog_.start();
  watched.arm(milliseconds(30));
  auto result = std::make_shared<ReadResult>();
  startRead(pair.server, result);
  // Stop the watchdog once the read is cancelled, so that run() returns.
  auto stopper = std::make_shared<asio::steady_timer>(io_, milliseconds(500));
  stopper->async_wait([this, stopper](const error_code&) { watchdog_.stop(); });
  auto started = std::chrono::steady_clock::now();
  while (!result->ec.has_value() && io_.run_one() > 0) {
  }
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(result->ec.has_value());
  EXPECT_EQ(*result->ec, asio::error::operation_aborted);
  EXPECT_TRUE(watched.timedOut());
  EXPECT_GE(waited, milliseconds(30));
  EXPECT_LT(waited, milliseconds(400));
  watchdog_.stop();
  stopper->cancel();
  io_.run();
}

TEST_F(WatchdogTest, DisarmedSocketIsNotCancelled) {
  SocketPair pair(io_);
  Watched watched(pair.server);
  watched.attach(watchdog_);
  watchdog_.start();
  watched.arm(milliseconds(30));
  watched.disarm();
  auto result = std::make_shared<ReadResult>();
  startRead(pair.server, result);
  finishAfter(milliseconds(100), pair.client);
  io_.run();
  ASSERT_TRUE(result->ec.has_value());
  EXPECT_FALSE(*result->ec) << result->ec->message();
  EXPECT_EQ(result->bytes, 1u);
  EXPECT_FALSE(watched.timedOut());
}

TEST_F(WatchdogTest, UnlimitedArmIsNotCancelled) {
  SocketPair pair(io_);
  Watched watched(pair.server);
  watched.attach(watchdog_);
  watchdog_.start();
  watched.arm(Duration::max());
  auto result = std::make_shared<ReadResult>();
  startRead(pair.server, result);
  finishAfter(milliseconds(80), pair.client);
  io_.run();
  ASSERT_TRUE(result->ec.has_value());
  EXPECT_FALSE(*result->ec) << result->ec->message();
  EXPECT_FALSE(watched.timedOut());
}

TEST_F(WatchdogTest, DetachedSocketIsNotCancelled) {
  SocketPair pair(io_);
  Watched watched(pair.server);
  watched.attach(watchdog_);
  watchdog_.start();
  watched.arm(milliseconds(30));
  watched.detach();
  auto result = std::make_shared<ReadResult>();
  startRead(pair.server, result);
  finishAfter(milliseconds(100), pair.client);
  io_.run();
  ASSERT_TRUE(result->ec.has_value());
  EXPECT_FALSE(*result->ec) << result->ec->message();
  EXPECT_FALSE(watched.timedOut());
}

TEST_F(WatchdogTest, DetachingOneKeepsTheOthersWatched) {
  SocketPair first(io_);
  SocketPair middle(io_);
  SocketPair last(io_);
  Watched watched_first(first.server);
  Watched watched_middle(middle.server);
  Watched watched_last(last.server);
  watched_first.attach(watchdog_);
  watched_middle.attach(watchdog_);
  watched_last.attach(watchdog_);
  {
    // Destroyed at once: its destructor detaches it from the list.
    Watched gone(middle.client);
    gone.attach(watchdog_);
  }
  watchdog_.start();
  watched_first.arm(milliseconds(30));
  watched_middle.arm(milliseconds(30));
  watched_last.arm(milliseconds(30));
  watched_middle.detach();
  auto first_read = std::make_shared<ReadResult>();
  auto middle_read = std::make_shared<ReadResult>();
  auto last_read = std::make_shared<ReadResult>();
  startRead(first.server, first_read);
  startRead(middle.server, middle_read);
  startRead(last.server, last_read);
  finishAfter(milliseconds(150), middle.client);
  io_.run();
  ASSERT_TRUE(first_read->ec.has_value());
  ASSERT_TRUE(middle_read->ec.has_value());
  ASSERT_TRUE(last_read->ec.has_value());
  EXPECT_EQ(*first_read->ec, asio::error::operation_aborted);
  EXPECT_EQ(*last_read->ec, asio::error::operation_aborted);
  EXPECT_FALSE(*middle_read->ec) << middle_read->ec->message();
  EXPECT_TRUE(watched_first.timedOut());
  EXPECT_TRUE(watched_last.timedOut());
  EXPECT_FALSE(watched_middle.timedOut());
}

TEST_F(WatchdogTest, ArmClearsTimedOutAndWatchesAgain) {
  SocketPair pair(io_);
  Watched watched(pair.server);
  watched.attach(watchdog_);
  watchdog_.start();
  watched.arm(milliseconds(20));
  auto first = std::make_shared<ReadResult>();
  startRead(pair.server, first);
  while (!first->ec.has_value() && io_.run_one() > 0) {
  }
  ASSERT_TRUE(watched.timedOut());
  EXPECT_EQ(*first->ec, asio::error::operation_aborted);

  watched.arm(milliseconds(20));
  EXPECT_FALSE(watched.timedOut());
  auto second = std::make_shared<ReadResult>();
  startRead(pair.server, second);
  while (!second->ec.has_value() && io_.run_one() > 0) {
  }
  EXPECT_EQ(*second->ec, asio::error::operation_aborted);
  EXPECT_TRUE(watched.timedOut());
  watchdog_.stop();
  io_.run();
}

TEST_F(WatchdogTest, StopEndsTheTickSoRunReturns) {
  auto before = watchdog_.now();
  watchdog_.start();
  auto stopper = std::make_shared<asio::steady_timer>(io_, milliseconds(50));
  stopper->async_wait([this, stopper](const error_code&) { watchdog_.stop(); });
  auto started = std::chrono::steady_clock::now();
  io_.run();  // Returns only if the tick stops re-arming itself.
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(50));
  // The cached clock advanced with the ticks.
  EXPECT_GT(watchdog_.now(), before);
  EXPECT_GE(watchdog_.now() - before, milliseconds(30));
}

TEST_F(WatchdogTest, ArmBeforeAttachSetsNoDeadline) {
  SocketPair pair(io_);
  Watched watched(pair.server);
  watched.arm(milliseconds(1));
  watched.attach(watchdog_);
  watchdog_.start();
  auto result = std::make_shared<ReadResult>();
  startRead(pair.server, result);
  finishAfter(milliseconds(60), pair.client);
  io_.run();
  ASSERT_TRUE(result->ec.has_value());
  EXPECT_FALSE(*result->ec) << result->ec->message();
  EXPECT_FALSE(watched.timedOut());
}

}  // namespace
}  // namespace dw::net
