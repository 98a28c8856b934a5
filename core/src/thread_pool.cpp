#include "hooklab/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace hooklab {
namespace {

// Polls `ready` until it returns true or kSpinSeconds pass; returns its last answer. The clock
// is read every few hundred polls: under Emscripten it is a call out to performance.now().
template <typename Ready>
bool spin_until(const Ready& ready) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(ThreadPool::kSpinSeconds));
  for (;;) {
    for (int poll = 0; poll < 256; ++poll) {
      if (ready()) return true;
    }
    if (Clock::now() >= deadline) return ready();
  }
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  // Rounded down, so that every chunk but the last has at least `grain` items.
  const int64_t max_chunks = std::max<int64_t>(n / grain, 1);
  if (workers_.empty() || max_chunks == 1) {
    fn(0, n);
    return;
  }
  // Many chunks per thread even out uneven rows and a worker that starts late; claiming one
  // costs a lock, well under a microsecond.
  const int64_t chunks = std::min<int64_t>(max_chunks, static_cast<int64_t>(threads()) * kChunksPerThread);
  std::unique_lock<std::mutex> lock(mutex_);
  job_ = &fn;
  job_n_ = n;
  job_chunk_ = (n + chunks - 1) / chunks;
  chunks_total_ = (n + job_chunk_ - 1) / job_chunk_;
  next_chunk_ = 0;
  chunks_done_.store(0);
  generation_.fetch_add(1, std::memory_order_release);
  lock.unlock();
  wake_.notify_all();
  lock.lock();
  run_chunks(lock);  // the caller works too
  const int64_t total = chunks_total_;
  lock.unlock();
  spin_until([&] { return chunks_done_.load(std::memory_order_acquire) == total; });
  lock.lock();
  done_.wait(lock, [&] { return chunks_done_.load() == total; });
  job_ = nullptr;
}

void ThreadPool::run_chunks(std::unique_lock<std::mutex>& lock) {
  while (job_ != nullptr && next_chunk_ < chunks_total_) {
    const int64_t chunk = next_chunk_++;
    const auto* fn = job_;
    const int64_t begin = chunk * job_chunk_;
    const int64_t end = std::min(job_n_, begin + job_chunk_);
    lock.unlock();
    (*fn)(begin, end);
    lock.lock();
    if (chunks_done_.fetch_add(1, std::memory_order_release) + 1 == chunks_total_) done_.notify_all();
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    spin_until([&] { return generation_.load(std::memory_order_acquire) != seen || stopping_.load(); });
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return stopping_.load() || (generation_.load() != seen && job_ != nullptr); });
    if (stopping_.load()) return;
    seen = generation_.load();
    run_chunks(lock);
  }
}

}  // namespace hooklab
