#include "hooklab/thread_pool.h"

#include <algorithm>

namespace hooklab {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t max_chunks = (n + grain - 1) / grain;
  if (workers_.empty() || max_chunks == 1) {
    fn(0, n);
    return;
  }
  // A few chunks per thread evens out uneven rows without much scheduling overhead.
  const int64_t chunks = std::min<int64_t>(max_chunks, static_cast<int64_t>(threads()) * 4);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    job_chunk_ = (n + chunks - 1) / chunks;
    chunks_total_ = (n + job_chunk_ - 1) / job_chunk_;
    next_chunk_ = 0;
    chunks_done_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  // The caller works too.
  for (;;) {
    int64_t chunk;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_chunk_ >= chunks_total_) break;
      chunk = next_chunk_++;
    }
    const int64_t begin = chunk * job_chunk_;
    fn(begin, std::min(n, begin + job_chunk_));
    std::lock_guard<std::mutex> lock(mutex_);
    ++chunks_done_;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return chunks_done_ == chunks_total_; });
  job_ = nullptr;
}

void ThreadPool::worker_loop(int /*index*/) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && job_ != nullptr); });
    if (stopping_) return;
    seen = generation_;
    while (job_ != nullptr && next_chunk_ < chunks_total_) {
      const int64_t chunk = next_chunk_++;
      const auto* fn = job_;
      const int64_t n = job_n_;
      const int64_t begin = chunk * job_chunk_;
      const int64_t end = std::min(n, begin + job_chunk_);
      lock.unlock();
      (*fn)(begin, end);
      lock.lock();
      if (++chunks_done_ == chunks_total_) done_.notify_all();
    }
  }
}

}  // namespace hooklab
