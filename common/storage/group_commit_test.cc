#include "common/storage/group_commit.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace linli::storage {
namespace {

struct Item {
  std::string id;
  int batch = -1;     // which batch ran it
  int processed = 0;  // how many times
  const std::string& key() const { return id; }
};

// Records every batch; optionally slow, so that callers pile up behind the leader.
class Recorder {
 public:
  explicit Recorder(absl::Duration delay) : delay_(delay) {}
  void Run(const std::vector<Item*>& batch) {
    {
      absl::MutexLock lock(&mu_);
      max_running_ = std::max(max_running_, ++running_);
      for (Item* item : batch) {
        if (!running_keys_.insert(item->id).second) ++key_overlaps_;
      }
    }
    absl::SleepFor(delay_);
    absl::MutexLock lock(&mu_);
    const int number = static_cast<int>(batches_.size());
    std::vector<std::string> keys;
    for (Item* item : batch) {
      item->batch = number;
      ++item->processed;
      keys.push_back(item->id);
      running_keys_.erase(item->id);
    }
    batches_.push_back(keys);
    --running_;
  }
  int max_running() const {
    absl::MutexLock lock(&mu_);
    return max_running_;
  }
  // Times a batch started with a key that a running batch (or itself) already had.
  int key_overlaps() const {
    absl::MutexLock lock(&mu_);
    return key_overlaps_;
  }
  std::vector<std::vector<std::string>> batches() const {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

 private:
  const absl::Duration delay_;
  mutable absl::Mutex mu_;
  std::vector<std::vector<std::string>> batches_;
  std::set<std::string> running_keys_;
  int running_ = 0;
  int max_running_ = 0;
  int key_overlaps_ = 0;
};

TEST(GroupCommitTest, ALoneCallerRunsItsOwnBatchAtOnce) {
  Recorder recorder(absl::ZeroDuration());
  GroupCommit<Item> group(8, 1, [&](const std::vector<Item*>& b) { recorder.Run(b); });
  for (int i = 0; i < 3; ++i) {
    Item item{absl::StrCat("v", i)};
    group.Submit(item);
    EXPECT_EQ(item.processed, 1);
    EXPECT_EQ(item.batch, i);
  }
  EXPECT_EQ(group.Counts(), (std::pair<int64_t, int64_t>{3, 3}));
}

// 16 callers, 8 keys, a slow commit, one or three batches at a time: every item runs exactly
// once, before its caller returns; no batch holds more than max_batch items; no key is in two
// running batches (or twice in one); no more batches run at once than allowed; and callers do
// share batches.
void RunConcurrentCallers(size_t max_parallel) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 25;
  constexpr size_t kMaxBatch = 6;
  Recorder recorder(absl::Milliseconds(2));
  GroupCommit<Item> group(kMaxBatch, max_parallel,
                          [&](const std::vector<Item*>& b) { recorder.Run(b); });
  std::vector<std::vector<Item>> items(kThreads, std::vector<Item>(kPerThread));
  std::atomic<bool> all_acknowledged_after_run{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Item& item = items[t][i];
        item.id = absl::StrCat("k", (t + i) % 8);
        group.Submit(item);
        if (item.processed != 1) all_acknowledged_after_run = false;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(all_acknowledged_after_run.load());
  EXPECT_EQ(recorder.key_overlaps(), 0);
  EXPECT_LE(recorder.max_running(), static_cast<int>(max_parallel));
  if (max_parallel > 1) {
    EXPECT_GT(recorder.max_running(), 1) << "batches never ran in parallel";
  }

  const auto batches = recorder.batches();
  size_t total = 0;
  for (const auto& batch : batches) {
    EXPECT_LE(batch.size(), kMaxBatch);
    total += batch.size();
  }
  EXPECT_EQ(total, size_t{kThreads * kPerThread});
  EXPECT_EQ(group.Counts(),
            (std::pair<int64_t, int64_t>{static_cast<int64_t>(batches.size()), total}));
  EXPECT_LT(batches.size(), total / 2) << "callers waiting behind a slow commit share batches";
}

TEST(GroupCommitTest, ConcurrentCallersShareOneBatchAtATime) { RunConcurrentCallers(1); }
TEST(GroupCommitTest, ConcurrentCallersShareSeveralBatchesAtATime) { RunConcurrentCallers(3); }

TEST(GroupCommitTest, BatchesOfOneStillServeEveryone) {
  Recorder recorder(absl::Microseconds(200));
  GroupCommit<Item> group(1, 2, [&](const std::vector<Item*>& b) { recorder.Run(b); });
  std::vector<std::thread> threads;
  std::vector<Item> items(64);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 64; i += 8) {
        items[i].id = absl::StrCat("v", i % 3);
        group.Submit(items[i]);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Item& item : items) EXPECT_EQ(item.processed, 1);
  for (const auto& batch : recorder.batches()) EXPECT_EQ(batch.size(), 1u);
}

TEST(GroupCommitTest, ALoneCallerNeverWaitsForTheGatherTime) {
  Recorder recorder(absl::ZeroDuration());
  GroupCommit<Item> group(
      8, 2, [&](const std::vector<Item*>& b) { recorder.Run(b); }, absl::Seconds(10));
  const absl::Time start = absl::Now();
  for (int i = 0; i < 3; ++i) {
    Item item{absl::StrCat("v", i)};
    group.Submit(item);
    EXPECT_EQ(item.processed, 1);
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "nothing else ran: no gathering";
}

// While one batch is held running, a second caller would lead a batch of one; with a gather
// time it waits, and the caller arriving meanwhile joins its batch (then it goes at once: it
// does not wait out the gather time).
TEST(GroupCommitTest, ALeaderGathersCallersArrivingWhileAnotherBatchRuns) {
  absl::Notification blocker_running, release_blocker;
  absl::Mutex mu;
  std::vector<std::vector<std::string>> batches;
  GroupCommit<Item> group(
      8, 2,
      [&](const std::vector<Item*>& batch) {
        std::vector<std::string> keys;
        for (Item* item : batch) {
          keys.push_back(item->id);
          ++item->processed;
        }
        if (keys.front() == "blocker") {
          blocker_running.Notify();
          release_blocker.WaitForNotification();
        }
        absl::MutexLock lock(&mu);
        batches.push_back(keys);
      },
      absl::Seconds(2));
  Item blocker{"blocker"}, b{"b"}, c{"c"};
  std::thread first([&] { group.Submit(blocker); });
  blocker_running.WaitForNotification();
  std::thread second([&] { group.Submit(b); });
  absl::SleepFor(absl::Milliseconds(50));  // b's caller is gathering now
  const absl::Time c_submitted = absl::Now();
  std::thread third([&] { group.Submit(c); });
  second.join();  // b's batch ran while the blocker still holds its place
  third.join();
  EXPECT_LT(absl::Now() - c_submitted, absl::Seconds(1)) << "waited out the gather time";
  release_blocker.Notify();
  first.join();
  for (const Item* item : {&blocker, &b, &c}) EXPECT_EQ(item->processed, 1) << item->id;
  absl::MutexLock lock(&mu);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(batches[1], (std::vector<std::string>{"blocker"}));
}

}  // namespace
}  // namespace linli::storage
