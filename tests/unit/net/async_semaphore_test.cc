#include "net/async_semaphore.h"

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "net/asio.h"

namespace dw::net {
namespace {

using Outcome = AsyncSemaphore::Outcome;
using std::chrono::milliseconds;

// What each acquirer got, in the order they got it.
using Log = std::vector<std::pair<int, Outcome>>;

// Parameters are copies: the coroutine outlives the caller's frame.
asio::awaitable<void> acquireAndLog(AsyncSemaphore* semaphore, std::shared_ptr<Log> log, int id,
                                    Duration max_wait) {
  Outcome outcome = co_await semaphore->acquire(max_wait);
  log->emplace_back(id, outcome);
}

class AsyncSemaphoreTest : public ::testing::Test {
 protected:
  void spawn(int id, Duration max_wait = Duration::max()) {
    asio::co_spawn(io_, acquireAndLog(&semaphore_, log_, id, max_wait), asio::detached);
  }

  // Runs every handler that is ready now, without waiting for timers.
  void poll() {
    io_.restart();
    io_.poll();
  }

  void TearDown() override {
    // Let every waiter finish so that no coroutine is left suspended on the semaphore.
    for (int i = 0; i < 16 && semaphore_.waiting() > 0; ++i) {
      semaphore_.release();
      poll();
    }
    EXPECT_EQ(semaphore_.waiting(), 0);
  }

  asio::io_context io_;
  AsyncSemaphore semaphore_{2, 8};
  std::shared_ptr<Log> log_ = std::make_shared<Log>();
};

TEST_F(AsyncSemaphoreTest, AdmitsUpToCapacityAndQueuesTheRest) {
  spawn(1);
  spawn(2);
  spawn(3);
  poll();
  EXPECT_EQ(*log_, (Log{{1, Outcome::kAcquired}, {2, Outcome::kAcquired}}));
  EXPECT_EQ(semaphore_.inUse(), 2);
  EXPECT_EQ(semaphore_.waiting(), 1);

  semaphore_.release();
  poll();
  EXPECT_EQ(log_->size(), 3u);
  EXPECT_EQ(log_->back(), std::make_pair(3, Outcome::kAcquired));
  EXPECT_EQ(semaphore_.inUse(), 2);  // The permit passed straight to the waiter.
  EXPECT_EQ(semaphore_.waiting(), 0);

  semaphore_.release();
  semaphore_.release();
  EXPECT_EQ(semaphore_.inUse(), 0);
}

TEST_F(AsyncSemaphoreTest, WaitersAreAdmittedInFifoOrder) {
  for (int id = 1; id <= 6; ++id) {
    spawn(id);
  }
  poll();
  ASSERT_EQ(log_->size(), 2u);
  EXPECT_EQ(semaphore_.waiting(), 4);
  for (int expected = 3; expected <= 6; ++expected) {
    semaphore_.release();
    poll();
    ASSERT_EQ(log_->size(), static_cast<size_t>(expected));
    EXPECT_EQ(log_->back(), std::make_pair(expected, Outcome::kAcquired));
    EXPECT_EQ(semaphore_.waiting(), 6 - expected);
    EXPECT_EQ(semaphore_.inUse(), 2);
  }
}

TEST_F(AsyncSemaphoreTest, NewcomerDoesNotJumpTheLine) {
  spawn(1);
  spawn(2);
  spawn(3);
  poll();
  // A release hands the permit to waiter 3 before a newcomer can take it.
  semaphore_.release();
  spawn(4);
  poll();
  ASSERT_EQ(log_->size(), 3u);
  EXPECT_EQ((*log_)[2], std::make_pair(3, Outcome::kAcquired));
  EXPECT_EQ(semaphore_.waiting(), 1);
}

TEST_F(AsyncSemaphoreTest, FullLineRefusesAtOnce) {
  semaphore_.resize(2, 1);
  spawn(1);
  spawn(2);
  spawn(3);
  spawn(4);
  poll();
  EXPECT_EQ(*log_,
            (Log{{1, Outcome::kAcquired}, {2, Outcome::kAcquired}, {4, Outcome::kQueueFull}}));
  EXPECT_EQ(semaphore_.waiting(), 1);
  EXPECT_EQ(semaphore_.inUse(), 2);

  semaphore_.release();
  poll();
  EXPECT_EQ(log_->back(), std::make_pair(3, Outcome::kAcquired));
}

TEST_F(AsyncSemaphoreTest, ZeroWaitingRefusesWithoutAFreePermit) {
  semaphore_.resize(1, 0);
  spawn(1);
  spawn(2);
  poll();
  EXPECT_EQ(*log_, (Log{{1, Outcome::kAcquired}, {2, Outcome::kQueueFull}}));
  EXPECT_EQ(semaphore_.waiting(), 0);
}

TEST_F(AsyncSemaphoreTest, WaitBeyondMaxWaitTimesOutAndLeavesTheLine) {
  spawn(1);
  spawn(2);
  poll();
  ASSERT_EQ(semaphore_.inUse(), 2);
  auto started = std::chrono::steady_clock::now();
  spawn(3, milliseconds(20));
  poll();
  EXPECT_EQ(semaphore_.waiting(), 1);
  io_.restart();
  io_.run();  // Only the waiter's timer is left.
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, milliseconds(20));
  ASSERT_EQ(log_->size(), 3u);
  EXPECT_EQ(log_->back(), std::make_pair(3, Outcome::kTimedOut));
  EXPECT_EQ(semaphore_.waiting(), 0);
  EXPECT_EQ(semaphore_.inUse(), 2);

  // The permit released later is not lost to the departed waiter.
  semaphore_.release();
  EXPECT_EQ(semaphore_.inUse(), 1);
  spawn(4);
  poll();
  EXPECT_EQ(log_->back(), std::make_pair(4, Outcome::kAcquired));
}

TEST_F(AsyncSemaphoreTest, TimedOutWaiterKeepsOthersInOrder) {
  spawn(1);
  spawn(2);
  spawn(3);
  spawn(4, milliseconds(10));
  spawn(5);
  poll();
  EXPECT_EQ(semaphore_.waiting(), 3);
  io_.restart();
  io_.run_for(milliseconds(100));  // Waiter 4 times out; 3 and 5 wait for ever.
  ASSERT_EQ(log_->size(), 3u);
  EXPECT_EQ(log_->back(), std::make_pair(4, Outcome::kTimedOut));
  EXPECT_EQ(semaphore_.waiting(), 2);
  semaphore_.release();
  poll();
  EXPECT_EQ(log_->back(), std::make_pair(3, Outcome::kAcquired));
  semaphore_.release();
  poll();
  EXPECT_EQ(log_->back(), std::make_pair(5, Outcome::kAcquired));
}

TEST_F(AsyncSemaphoreTest, GrowingAdmitsWaiters) {
  semaphore_.resize(1, 8);
  for (int id = 1; id <= 4; ++id) {
    spawn(id);
  }
  poll();
  EXPECT_EQ(semaphore_.inUse(), 1);
  EXPECT_EQ(semaphore_.waiting(), 3);

  semaphore_.resize(3, 8);
  poll();
  EXPECT_EQ(semaphore_.capacity(), 3);
  EXPECT_EQ(semaphore_.inUse(), 3);
  EXPECT_EQ(semaphore_.waiting(), 1);
  EXPECT_EQ(*log_,
            (Log{{1, Outcome::kAcquired}, {2, Outcome::kAcquired}, {3, Outcome::kAcquired}}));

  semaphore_.resize(10, 8);
  poll();
  EXPECT_EQ(semaphore_.inUse(), 4);
  EXPECT_EQ(semaphore_.waiting(), 0);
  EXPECT_EQ(log_->back(), std::make_pair(4, Outcome::kAcquired));
}

TEST_F(AsyncSemaphoreTest, ShrinkingBelowInUseKeepsPermitsAndAdmitsNobodyUntilEnoughReturn) {
  semaphore_.resize(3, 8);
  for (int id = 1; id <= 4; ++id) {
    spawn(id);
  }
  poll();
  ASSERT_EQ(semaphore_.inUse(), 3);
  ASSERT_EQ(semaphore_.waiting(), 1);

  semaphore_.resize(1, 8);
  EXPECT_EQ(semaphore_.capacity(), 1);
  EXPECT_EQ(semaphore_.inUse(), 3);  // The three holders keep their permits.

  semaphore_.release();
  poll();
  EXPECT_EQ(semaphore_.inUse(), 2);
  EXPECT_EQ(semaphore_.waiting(), 1);

  semaphore_.release();
  poll();
  EXPECT_EQ(semaphore_.inUse(), 1);
  EXPECT_EQ(semaphore_.waiting(), 1);
  EXPECT_EQ(log_->size(), 3u);

  // Now one permit is in use out of one: the next release passes it to the waiter.
  semaphore_.release();
  poll();
  EXPECT_EQ(log_->back(), std::make_pair(4, Outcome::kAcquired));
  EXPECT_EQ(semaphore_.inUse(), 1);
  EXPECT_EQ(semaphore_.waiting(), 0);

  semaphore_.release();
  EXPECT_EQ(semaphore_.inUse(), 0);
  spawn(5);
  spawn(6);
  poll();
  EXPECT_EQ(semaphore_.inUse(), 1);
  EXPECT_EQ(semaphore_.waiting(), 1);
}

TEST_F(AsyncSemaphoreTest, ShrinkingTheLineRefusesNewWaiters) {
  spawn(1);
  spawn(2);
  spawn(3);
  spawn(4);
  poll();
  EXPECT_EQ(semaphore_.waiting(), 2);
  semaphore_.resize(2, 1);
  spawn(5);
  poll();
  EXPECT_EQ(log_->back(), std::make_pair(5, Outcome::kQueueFull));
  EXPECT_EQ(semaphore_.waiting(), 2);  // Those already waiting stay in line.
}

TEST_F(AsyncSemaphoreTest, CountersStartEmpty) {
  EXPECT_EQ(semaphore_.capacity(), 2);
  EXPECT_EQ(semaphore_.inUse(), 0);
  EXPECT_EQ(semaphore_.waiting(), 0);
}

}  // namespace
}  // namespace dw::net
