#include "clamd/clamd_session.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "bulwark/content/blob.h"
#include "clamd/clamd_codec.h"

namespace bulwark::clamd {

struct ClamdSession::Request {
  Form form = Form::kNul;
  ParsedCommand parsed;
  Command command() const { return parsed.command; }
};

namespace {

// Commands clamd answers inside an IDSESSION; any other ends it with kInvalidInSession.
bool AllowedInSession(Command command) {
  switch (command) {
    case Command::kPing:
    case Command::kVersion:
    case Command::kVersionCommands:
    case Command::kScan:
    case Command::kContScan:
    case Command::kMultiScan:
    case Command::kAllMatchScan:
    case Command::kInstream:
    case Command::kFildes:
    case Command::kStats:
      return true;
    default:
      return false;
  }
}

// Content read off the wire is wiped when it goes, whichever way the command ends.
class WipedBuffer {
 public:
  WipedBuffer() = default;
  ~WipedBuffer() { content::Blob::Own(std::move(bytes_)); }
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

// After an error reply the client may still be sending (a stream over the limit): read a
// bounded amount more so that closing does not reset the connection before the client
// has read the reply.
void DrainBriefly(net::Connection& connection) {
  connection.ShutdownWrite();
  char buffer[16384];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::size_t drained = 0;
  while (drained < (64u << 20) && std::chrono::steady_clock::now() < deadline) {
    auto n = connection.Read(buffer, std::chrono::milliseconds(500));
    if (!n.ok() || *n == 0) return;
    drained += *n;
  }
}

bool Inside(const std::string& path, const std::vector<std::string>& directories) {
  for (const std::string& dir : directories) {
    if (path == dir || dir == "/") return true;
    if (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
        path[dir.size()] == '/') {
      return true;
    }
  }
  return false;
}

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

void ClamdSession::Run(net::Connection& connection) {
  tenant_id_ = options_.tenant_id;
  net::BufferedReader reader(connection, options_.idle_timeout);
  if (options_.require_auth) {
    auto first = ReadCommand(reader);
    if (!first.ok() || !Authenticate(*first, connection)) return;
  }
  auto request = ReadCommand(reader);
  if (!request.ok()) return;
  if (request->command() != Command::kIdSession) {
    Handle(*request, reader, 0);
    return;
  }
  for (std::uint64_t id = 1;; ++id) {
    if (options_.stopping && options_.stopping()) return;
    request = ReadCommand(reader);
    if (!request.ok()) return;
    if (request->form == Form::kPlain) return;  // clamd drops a session on a legacy command
    if (request->command() == Command::kEnd) return;
    if (!AllowedInSession(request->command())) {
      (void)Reply(connection, kInvalidInSession, *request, id);
      return;
    }
    if (Handle(*request, reader, id) == Next::kClose) return;
  }
}

Result<ClamdSession::Request> ClamdSession::ReadCommand(net::BufferedReader& reader) {
  reader.set_timeout(options_.idle_timeout);
  BULWARK_ASSIGN_OR_RETURN(bool data, reader.WaitForData());
  if (!data) return FailedPreconditionError("connection closed");
  reader.set_timeout(options_.read_timeout);
  std::string first;
  BULWARK_RETURN_IF_ERROR(reader.ReadExactly(1, first));
  Request request;
  request.form = FormOf(first[0]);
  std::string body;
  if (request.form == Form::kPlain) {
    if (first[0] == '\n') {
      body.clear();
    } else {
      Result<std::string> line = reader.ReadUntil("\n", kMaxCommandBytes - 1);
      if (!line.ok() && line.status().code() == StatusCode::kFailedPrecondition &&
          reader.buffered() > 0) {
        // A legacy command ended by the client closing its side ("PING" then EOF): clamd
        // answers it, so do we.
        line = std::string(reader.Peek());
        reader.Consume(reader.buffered());
      } else if (!line.ok() && line.status().code() == StatusCode::kFailedPrecondition) {
        line = std::string();
      }
      BULWARK_ASSIGN_OR_RETURN(body, std::move(line));
      body.insert(body.begin(), first[0]);
    }
  } else {
    BULWARK_ASSIGN_OR_RETURN(body, reader.ReadUntil(Delimiter(request.form), kMaxCommandBytes));
  }
  request.parsed = ParseCommand(body, request.form);
  return request;
}

Status ClamdSession::Reply(net::Connection& connection, std::string_view text,
                           const Request& request, std::uint64_t id) {
  return connection.Write(FrameReply(text, request.form, id), options_.read_timeout);
}

bool ClamdSession::Authenticate(const Request& request, net::Connection& connection) {
  std::string failure;
  if (request.command() != Command::kAuth) {
    failure = "authentication required (send AUTH <api-token> first)";
  } else {
    ClamdAuthentication auth = backend_.Authenticate(request.parsed.argument);
    if (auth.ok) {
      tenant_id_ = auth.tenant_id;
      return Reply(connection, "AUTH OK", request, 0).ok();
    }
    failure = auth.reason;
  }
  (void)Reply(connection, "AUTH FAILED: " + failure, request, 0);
  return false;
}

ClamdSession::Next ClamdSession::Handle(const Request& request, net::BufferedReader& reader,
                                        std::uint64_t id) {
  net::Connection& connection = reader.connection();
  auto answer = [&](std::string_view text) {
    return Reply(connection, text, request, id).ok() ? Next::kContinue : Next::kClose;
  };
  switch (request.command()) {
    case Command::kPing:
      return answer(kPong);
    case Command::kVersion:
      return answer(backend_.Version());
    case Command::kVersionCommands:
      return answer(backend_.Version() + "| COMMANDS:" + std::string(CommandList()));
    case Command::kStats:
      return answer(backend_.Stats());
    case Command::kReload:
      (void)answer(kReloading);
      connection.ShutdownWrite();
      backend_.Reload();
      return Next::kClose;
    case Command::kShutdown:
      if (backend_.Shutdown()) return Next::kClose;  // clamd stops without a word
      (void)answer("SHUTDOWN is disabled on this server. ERROR");
      return Next::kClose;
    case Command::kInstream:
      return Instream(request, reader, id);
    case Command::kFildes:
      return Fildes(request, connection, id);
    case Command::kScan:
    case Command::kContScan:
    case Command::kMultiScan:
    case Command::kAllMatchScan:
      return ScanPath(request, connection, id);
    case Command::kDetStats:
    case Command::kDetStatsClear:
    case Command::kIdSession:  // only as a session's first command
      return Next::kClose;
    case Command::kEnd:
    case Command::kAuth:
    case Command::kUnknown:
      break;
  }
  (void)answer(kUnknownCommand);
  return Next::kClose;
}

std::string ClamdSession::ScanReply(const std::string& name,
                                    const Result<ClamdScanResult>& result, bool all_matches) {
  if (!result.ok()) return name + ": Scan failed. ERROR";
  if (!result->found || result->names.empty()) return name + ": OK";
  std::string text = name + ": " + result->names.front() + " FOUND";
  if (!all_matches) return text;
  for (std::size_t i = 1; i < result->names.size(); ++i) {
    text += '\n';  // split into separate replies by the caller
    text += name + ": " + result->names[i] + " FOUND";
  }
  return text;
}

ClamdSession::Next ClamdSession::Instream(const Request& request, net::BufferedReader& reader,
                                          std::uint64_t id) {
  net::Connection& connection = reader.connection();
  WipedBuffer stream;
  std::uint64_t total = 0;
  for (;;) {
    std::string header;
    if (!reader.ReadExactly(4, header).ok()) return Next::kClose;  // truncated: no reply
    std::uint32_t length = DecodeChunkLength(header);
    if (length == 0) break;
    if (total + length > options_.stream_max_length) {
      (void)Reply(connection, kSizeLimitExceeded, request, id);
      DrainBriefly(connection);
      return Next::kClose;
    }
    if (!reader.ReadExactly(length, stream.bytes()).ok()) return Next::kClose;
    total += length;
  }
  auto result = backend_.Scan(tenant_id_, stream.bytes(), "stream");
  bool ok = Reply(connection, ScanReply("stream", result, false), request, id).ok();
  return ok && result.ok() ? Next::kContinue : Next::kClose;
}

ClamdSession::Next ClamdSession::Fildes(const Request& request, net::Connection& connection,
                                        std::uint64_t id) {
  // clamd closes without a reply when no descriptor comes (or cannot come, over TCP).
  if (connection.peer().transport != net::Transport::kUnix) return Next::kClose;
  auto fd = connection.ReceiveDescriptor(options_.read_timeout);
  if (!fd.ok()) return Next::kClose;
  std::string name = "fd[" + std::to_string(fd->get()) + "]";
  auto blob = content::Blob::ReadDescriptor(fd->get(), options_.max_file_bytes);
  if (!blob.ok()) {
    std::string why = blob.status().code() == StatusCode::kResourceExhausted
                          ? "Size limit exceeded. ERROR"
                          : "Can't read file. ERROR";
    (void)Reply(connection, name + ": " + why, request, id);
    return Next::kClose;
  }
  auto result = backend_.Scan(tenant_id_, blob->view(), name);
  bool ok = Reply(connection, ScanReply(name, result, false), request, id).ok();
  return ok && result.ok() ? Next::kContinue : Next::kClose;
}

ClamdSession::Next ClamdSession::ScanPath(const Request& request, net::Connection& connection,
                                          std::uint64_t id) {
  const Command command = request.command();
  const bool continue_after_found = command == Command::kContScan || command == Command::kMultiScan;
  const bool all_matches = command == Command::kAllMatchScan;
  const std::string shown = StripTrailingSlashes(request.parsed.argument);
  const bool multiscan = command == Command::kMultiScan;
  bool failed_write = false;
  std::mutex reply_mu;  // MULTISCAN's workers reply as their scans end
  auto line = [&](const std::string& text) {
    std::lock_guard lock(reply_mu);
    // One reply per line (ALLMATCHSCAN's several matches arrive joined by '\n').
    std::size_t start = 0;
    while (!failed_write && start <= text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      failed_write = !Reply(connection, std::string_view(text).substr(start, end - start),
                            request, id)
                          .ok();
      start = end + 1;
    }
  };

  // Only inside the configured directories; a path outside them is "Access denied" whether
  // it exists or not, so the command cannot probe the rest of the file system.
  char resolved[PATH_MAX];
  if (realpath(shown.c_str(), resolved) == nullptr) {
    int error = errno;
    std::string lexical = std::filesystem::path(shown).lexically_normal().string();
    if (!shown.empty() && shown[0] == '/' &&
        Inside(StripTrailingSlashes(lexical), options_.scan_directories)) {
      line(shown + ": File path check failure: " + std::strerror(error) + ". ERROR");
    } else {
      line(shown + ": Access denied. ERROR");
    }
    return Next::kClose;
  }
  if (!Inside(resolved, options_.scan_directories)) {
    line(shown + ": Access denied. ERROR");
    return Next::kClose;
  }

  std::atomic<bool> found_any = false;
  bool stop = false;
  // Scans one regular file; `display` is the path as the reply shows it.
  auto scan_file = [&](const std::string& real, const std::string& display) {
    auto blob = content::Blob::ReadFile(real, options_.max_file_bytes);
    if (!blob.ok()) {
      switch (blob.status().code()) {
        case StatusCode::kPermissionDenied: line(display + ": Access denied. ERROR"); break;
        case StatusCode::kResourceExhausted: line(display + ": Size limit exceeded. ERROR"); break;
        default: line(display + ": Can't read file. ERROR"); break;
      }
      return;
    }
    auto result = backend_.Scan(tenant_id_, blob->view(), display);
    if (!result.ok()) {
      line(ScanReply(display, result, false));
    } else if (result->found) {
      found_any = true;
      line(ScanReply(display, result, all_matches));
      if (!continue_after_found) stop = true;
    }
  };
  // MULTISCAN, as clamd: the walk lists the files, then every core scans them at once and
  // each reply goes out as its scan ends (so in no fixed order).
  struct File {
    std::string real, display;
  };
  std::vector<File> files;
  // Depth-first, entries in name order; symbolic links and special files are skipped, as
  // clamd does by default (FollowDirectorySymlinks, FollowFileSymlinks: no).
  std::function<void(const std::string&, const std::string&, int)> walk =
      [&](const std::string& real, const std::string& display, int depth) {
        struct stat st;
        if (lstat(real.c_str(), &st) != 0) {
          line(display + ": File path check failure: " + std::strerror(errno) + ". ERROR");
          return;
        }
        if (S_ISREG(st.st_mode)) {
          if (multiscan) return files.push_back({real, display});
          return scan_file(real, display);
        }
        if (!S_ISDIR(st.st_mode) || depth > 64) return;
        std::error_code ec;
        std::vector<std::string> names;
        for (std::filesystem::directory_iterator it(real, ec), end; !ec && it != end;
             it.increment(ec)) {
          names.push_back(it->path().filename().string());
        }
        if (ec) {
          line(display + ": File path check failure: " + ec.message() + ". ERROR");
          return;
        }
        std::sort(names.begin(), names.end());
        for (const std::string& name : names) {
          if (stop || failed_write) return;
          struct stat child;
          std::string child_real = real + "/" + name;
          if (lstat(child_real.c_str(), &child) != 0 || S_ISLNK(child.st_mode)) continue;
          walk(child_real, (display == "/" ? "" : display) + "/" + name, depth + 1);
        }
      };
  walk(resolved, shown, 0);
  if (multiscan) {
    std::atomic<std::size_t> next = 0;
    auto work = [&] {
      for (std::size_t i = next++; i < files.size(); i = next++) {
        if (std::lock_guard lock(reply_mu); failed_write) return;
        scan_file(files[i].real, files[i].display);
      }
    };
    const std::size_t workers = std::min<std::size_t>(options_.multiscan_threads, files.size());
    std::vector<std::thread> threads;
    for (std::size_t k = 1; k < workers; ++k) threads.emplace_back(work);
    work();
    for (std::thread& thread : threads) thread.join();
  }
  if (!found_any && !failed_write) line(shown + ": OK");
  return failed_write ? Next::kClose : Next::kContinue;
}

}  // namespace bulwark::clamd
