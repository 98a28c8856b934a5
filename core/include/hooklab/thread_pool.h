// A small fork-join pool used by the compute backends to split work across threads.
//
// Portable C++ (std::thread): natively it runs on OS threads, under Emscripten with -pthread
// on Web Workers. With zero workers (the single-threaded wasm build) parallel_for runs inline.
//
// A GPT-2-small generation step is 49-73 parallel regions of 20-250 us each, a few microseconds
// apart. Measured with 2 threads in Node (pthreads build): a sleeping worker started its first
// chunk ~30 us after the call, and the caller, done with its own chunks, then waited ~45 us per
// region (2.3 ms of a 21 ms step) for the worker's last chunk and its own wake-up. So waits spin
// briefly before they sleep (the gaps inside a step are shorter than kSpinSeconds, the gap
// between steps is not), and chunks are small enough that a late start or a slower thread
// leaves little to wait for: caller waits fell to ~0.6 ms a step. Spinning is kept short
// because on a machine with no idle core a spinning thread takes time from the one doing the
// work (with one core busy elsewhere, a 200 us spin cost 12 %, 50 us about 6 %).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hooklab {

class ThreadPool {
 public:
  // `threads` counts the calling thread: ThreadPool(1) spawns no workers.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint chunks covering [0, n); returns when all are done.
  // Every chunk but the one ending at n has at least `grain` items. fn must not throw (the
  // kernels do not). Not reentrant, and one caller at a time: do not call from inside fn.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // How long an idle worker, or a caller whose chunks are done, polls before it sleeps.
  static constexpr double kSpinSeconds = 50e-6;
  // parallel_for splits into at most this many chunks per thread (fewer when `grain` says so).
  static constexpr int kChunksPerThread = 16;

 private:
  void worker_loop();
  // Claims and runs chunks of the current job until none is left; `lock` is held on entry and exit.
  void run_chunks(std::unique_lock<std::mutex>& lock);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0;
  int64_t job_chunk_ = 0;
  int64_t next_chunk_ = 0;
  int64_t chunks_total_ = 0;
  // Written under mutex_, read without it by spinning threads.
  std::atomic<int64_t> chunks_done_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace hooklab
