#include "storage/database.h"

#include <charconv>
#include <string>
#include <utility>

#include "storage/database_internal.h"

namespace bulwark::storage {

std::string Row::Text(std::size_t i) const {
  const Value& value = values[i];
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* number = std::get_if<std::int64_t>(&value)) return std::to_string(*number);
  return "";
}

std::int64_t Row::Int(std::size_t i) const {
  const Value& value = values[i];
  if (const auto* number = std::get_if<std::int64_t>(&value)) return *number;
  if (const auto* text = std::get_if<std::string>(&value)) {
    std::int64_t parsed = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), parsed);
    if (error != std::errc() || end != text->data() + text->size()) return 0;
    return parsed;
  }
  return 0;
}

Database::Lease& Database::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (connection_ != nullptr) owner_->Release(std::move(connection_));
    owner_ = other.owner_;
    connection_ = std::move(other.connection_);
  }
  return *this;
}

Database::Lease::~Lease() {
  if (connection_ != nullptr) owner_->Release(std::move(connection_));
}

Result<std::unique_ptr<Database>> OpenDatabase(const std::string& url, int pool_size) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (url.starts_with(kSqlite)) {
    std::string path = url.substr(kSqlite.size());
    if (path.starts_with("//")) path.erase(0, 2);  // "sqlite:///var/lib/x.db" → "/var/lib/x.db"
    if (path.empty()) return InvalidArgumentError("database url \"sqlite:\" has no path");
    return OpenSqlite(path, pool_size);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return OpenPostgres(url, pool_size);
  }
  return InvalidArgumentError(
      "database url must start with \"sqlite:\", \"postgresql://\" or \"postgres://\"");
}

namespace internal {

Result<std::unique_ptr<Connection>> ConnectionPool::Take(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  bool ready = available_.wait_for(lock, wait, [this] { return !idle_.empty() || open_ < size_; });
  if (!ready) return UnavailableError("no database connection free (pool exhausted)");
  if (!idle_.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    return connection;
  }
  ++open_;
  return std::unique_ptr<Connection>();
}

void ConnectionPool::Put(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(connection));
  }
  available_.notify_one();
}

void ConnectionPool::Drop() {
  {
    std::lock_guard lock(mu_);
    --open_;
  }
  available_.notify_one();
}

std::string SqlitePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  std::size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '\'' || c == '"') {  // literal or quoted identifier; doubled quote = escaped
      std::size_t end = sql.find(c, i + 1);
      while (end != std::string_view::npos && end + 1 < sql.size() && sql[end + 1] == c) {
        end = sql.find(c, end + 2);
      }
      end = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      std::size_t end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      ++i;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

}  // namespace internal
}  // namespace bulwark::storage
