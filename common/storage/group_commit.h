// Group commit: concurrent callers' small writes share one transaction.
//
// A caller submits an item and blocks until a batch containing it has been run. There is no
// background thread: a caller that finds fewer than `max_parallel` batches running becomes a
// leader, takes the queued items (up to `max_batch`), runs them together and wakes the others;
// items that arrive meanwhile form the next batch, led by one of their own callers. With few
// callers a batch holds one item and nothing waits; under load the fixed cost of a transaction
// (begin, read, commit, log flush) is paid once per batch instead of once per item. Running a
// few batches in parallel keeps a client-server database busy while one batch waits on the
// network (on SQLite, where writers queue anyway, one at a time is best).
//
// With a `gather` time, a leader that would start a batch while another one is still running
// first waits (at most that long) until as many items are queued as the last finished batch
// had (at least two): under load, callers answered by one batch come back together, and without the
// pause the first of them would take a batch of one while its siblings queue behind it. A lone
// caller (nothing else running) never waits.
//
// Items with the same key are never in one batch, nor in two batches running at once, so a
// batch can read every row first and then write without one item invalidating another's read,
// and changes of one key are applied in the order submitted. `run` must give each item of the
// batch its outcome; an item is acknowledged (Submit returns) only after `run` returns, that is
// after the shared commit.
#ifndef LINLI_COMMON_STORAGE_GROUP_COMMIT_H_
#define LINLI_COMMON_STORAGE_GROUP_COMMIT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace linli::storage {

// Item needs `std::string key() const`.
template <typename Item>
class GroupCommit {
 public:
  using RunBatch = std::function<void(const std::vector<Item*>& batch)>;

  GroupCommit(size_t max_batch, size_t max_parallel, RunBatch run,
              absl::Duration gather = absl::ZeroDuration())
      : max_batch_(std::max<size_t>(1, max_batch)),
        max_parallel_(std::max<size_t>(1, max_parallel)),
        run_(std::move(run)),
        gather_(gather) {}
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Runs `item` in some batch; returns once that batch has been run.
  void Submit(Item& item) {
    Waiter me{&item};
    mu_.Lock();
    queue_.push_back(&me);
    if (gathering_ > 0) cv_.SignalAll();  // a gathering leader counts arrivals
    bool gathered = false;
    while (!me.done) {
      if (running_ + gathering_ >= max_parallel_) {
        cv_.Wait(&mu_);
        continue;
      }
      // The callers answered together with this one are likely on their way back: wait for as
      // many items as the last batch had, at least two (at most gather_), then lead whatever is
      // queued.
      const size_t expected = std::min(max_batch_, std::max<size_t>(2, last_batch_size_));
      if (!gathered && gather_ > absl::ZeroDuration() && running_ > 0 && queue_.size() < expected) {
        gathered = true;  // once per call
        ++gathering_;
        const Stopwatch waiting;
        while (!me.done && queue_.size() < expected && waiting.Elapsed() < gather_ &&
               !cv_.WaitWithTimeout(&mu_, gather_ - waiting.Elapsed())) {
        }
        --gathering_;
        cv_.SignalAll();  // its place may go to another leader if this item was taken meanwhile
        continue;
      }
      // Lead one batch: the oldest items whose keys are free, usually including this one (not
      // when more than max_batch are ahead of it or its key is busy; then it goes round again).
      const std::vector<Waiter*> batch = TakeBatch();
      if (batch.empty()) {  // every queued key is in a running batch
        cv_.Wait(&mu_);
        continue;
      }
      ++running_;
      mu_.Unlock();
      std::vector<Item*> items;
      items.reserve(batch.size());
      for (Waiter* w : batch) items.push_back(w->item);
      run_(items);
      mu_.Lock();
      for (Waiter* w : batch) {
        w->done = true;
        busy_keys_.erase(w->item->key());
      }
      --running_;
      last_batch_size_ = batch.size();
      ++batches_;
      items_ += static_cast<int64_t>(batch.size());
      cv_.SignalAll();
    }
    mu_.Unlock();
  }

  // Batches run and items processed so far (for tests and metrics).
  std::pair<int64_t, int64_t> Counts() const {
    absl::MutexLock lock(&mu_);
    return {batches_, items_};
  }

 private:
  struct Waiter {
    Item* item;
    bool done = false;
  };

  // Oldest first, at most max_batch_, skipping an item whose key is busy (in this batch or a
  // running one; the item stays queued, in order, for a later batch). Marks the keys busy.
  // Requires mu_.
  std::vector<Waiter*> TakeBatch() {
    std::vector<Waiter*> batch;
    std::set<std::string> skipped;  // a later item of a skipped key must not overtake it
    for (auto it = queue_.begin(); it != queue_.end() && batch.size() < max_batch_;) {
      const std::string& key = (*it)->item->key();
      if (busy_keys_.count(key) > 0 || skipped.count(key) > 0) {
        skipped.insert(key);
        ++it;
        continue;
      }
      busy_keys_.insert(key);
      batch.push_back(*it);
      it = queue_.erase(it);
    }
    return batch;
  }

  const size_t max_batch_;
  const size_t max_parallel_;
  const RunBatch run_;
  const absl::Duration gather_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<Waiter*> queue_;
  std::set<std::string> busy_keys_;  // keys of the items in running batches
  size_t running_ = 0;
  size_t gathering_ = 0;        // would-be leaders pausing for more items (they hold a place)
  size_t last_batch_size_ = 0;  // items in the batch that finished last
  int64_t batches_ = 0;
  int64_t items_ = 0;
};

}  // namespace linli::storage

#endif  // LINLI_COMMON_STORAGE_GROUP_COMMIT_H_
