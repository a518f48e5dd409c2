#include "test/support/s3_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace bulwark::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kScript[] = BULWARK_SOURCE_DIR "/tools/s3/node_modules/s3rver/bin/s3rver.js";
constexpr char kInstallHint[] =
    "run scripts/install-deps.sh --test (it installs node/npm and then s3rver into "
    "tools/s3/node_modules; or: npm ci --prefix tools/s3)";
constexpr char kListening[] = "S3rver listening on 127.0.0.1:";

// The first executable `node` on PATH; "" when there is none.
std::string FindNode() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Tail(const std::string& text, std::size_t bytes = 2000) {
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

bool Answers(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

}  // namespace

Result<std::unique_ptr<S3Server>> S3Server::Start(const std::string& bucket) {
  const std::string node = FindNode();
  if (node.empty()) return UnavailableError(std::string("node is not installed: ") + kInstallHint);
  if (::access(kScript, R_OK) != 0) {
    return UnavailableError(std::string("s3rver is not installed (no ") + kScript +
                            "): " + kInstallHint);
  }

  std::unique_ptr<S3Server> server(new S3Server());
  server->bucket_ = bucket;
  char root_template[] = "/tmp/bulwark-s3-XXXXXX";
  if (::mkdtemp(root_template) == nullptr) return UnavailableError("cannot create a temp dir");
  server->root_ = root_template;
  const std::string log = server->root_ + "/server.log";

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> owned = {node, kScript, "--directory", server->root_ + "/data"};
  owned.insert(owned.end(), {"--address", "127.0.0.1", "--port", "0", "--silent",
                             "--no-vhost-buckets", "--configure-bucket", bucket});
  std::vector<char*> argv;
  for (std::string& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) return UnavailableError("fork failed");
  if (pid == 0) {
    // The server must not outlive a test binary that crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) _exit(125);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int in = ::open("/dev/null", O_RDONLY);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    if (in >= 0) ::dup2(in, 0);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  server->pid_ = pid;

  // s3rver creates the bucket, then listens, then prints the port it got.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = -1;
      return UnavailableError("s3rver exited with status " +
                              std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                              " before listening:\n" + Tail(ReadFile(log)));
    }
    const std::string text = ReadFile(log);
    const std::size_t at = text.find(kListening);
    if (at != std::string::npos) {
      const int port = std::atoi(text.c_str() + at + sizeof(kListening) - 1);
      if (port > 0 && Answers(port)) {
        server->port_ = port;
        return server;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return UnavailableError("s3rver did not listen within 60 s:\n" + Tail(ReadFile(log)));
}

S3Server::~S3Server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool reaped = false;
    while (!reaped && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno != EINTR)) {
        reaped = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  if (!root_.empty()) {
    std::error_code error;
    fs::remove_all(root_, error);
  }
}

}  // namespace bulwark::testing
