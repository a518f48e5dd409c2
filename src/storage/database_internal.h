#pragma once
// What the two Database backends share, internal to storage/: the connection pool and the
// placeholder rewrite.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"
#include "storage/database.h"

namespace bulwark::storage::internal {

// The idle connections of one Database and the number of connections open (idle or leased),
// bounded by the pool size. Thread-safe.
class ConnectionPool {
 public:
  explicit ConnectionPool(int size) : size_(size < 1 ? 1 : size) {}

  // An idle connection, or nullptr when none is idle but a slot was reserved: the caller then
  // opens a new connection and must either hand it out (it counts as open) or call Drop().
  // kUnavailable when every slot stays leased for `wait`.
  Result<std::unique_ptr<Connection>> Take(std::chrono::milliseconds wait);
  // A healthy connection back to the idle list.
  void Put(std::unique_ptr<Connection> connection);
  // A leased connection (or a reserved slot) discarded: frees its slot.
  void Drop();

 private:
  const int size_;
  std::mutex mu_;
  std::condition_variable available_;
  // Guarded by mu_. open_ counts idle, leased and reserved connections; open_ <= size_.
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
};

// `$N` placeholders → `?N` (SQLite), leaving string literals, quoted identifiers and comments
// untouched.
std::string SqlitePlaceholders(std::string_view sql);

}  // namespace bulwark::storage::internal
