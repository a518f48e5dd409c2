#include "test/support/test_support.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>
#include <random>
#include <sstream>
#include <stdexcept>

namespace bulwark::testing {

std::string Eicar() {
  std::string part1 = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$";
  std::string part2 = "EICAR-STANDARD-ANTIVIRUS-";
  std::string part3 = "TEST-FILE!$H+H*";
  return part1 + part2 + part3;
}

namespace {

struct WriterDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};

void Check(int rc, struct archive* a, const char* what) {
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
    throw std::runtime_error(std::string(what) + ": " +
                             (archive_error_string(a) ? archive_error_string(a) : "?"));
  }
}

std::string Base64(const std::string& in) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t line = 0;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(kTable[(v >> 18) & 63]);
    out.push_back(kTable[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kTable[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? kTable[v & 63] : '=');
    line += 4;
    if (line >= 76) {
      out += "\r\n";
      line = 0;
    }
  }
  if (line > 0) out += "\r\n";
  return out;
}

}  // namespace

std::string MakeArchive(const std::string& format, const std::vector<Member>& members,
                        const std::string& filter, const std::string& passphrase) {
  std::unique_ptr<struct archive, WriterDeleter> a(archive_write_new());
  Check(archive_write_set_format_by_name(a.get(), format.c_str()), a.get(), "format");
  if (!filter.empty()) Check(archive_write_add_filter_by_name(a.get(), filter.c_str()), a.get(), "filter");
  if (!passphrase.empty()) {
    Check(archive_write_set_options(a.get(), "zip:encryption=zipcrypt"), a.get(), "encryption");
    Check(archive_write_set_passphrase(a.get(), passphrase.c_str()), a.get(), "passphrase");
  }
  std::size_t capacity = 1 << 20;
  for (const auto& m : members) capacity += m.bytes.size() * 2 + 4096;
  std::string buffer(capacity, '\0');
  size_t used = 0;
  Check(archive_write_open_memory(a.get(), buffer.data(), buffer.size(), &used), a.get(), "open");
  for (const auto& m : members) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, m.name.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(m.bytes.size()));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_mtime(entry, 1700000000, 0);
    Check(archive_write_header(a.get(), entry), a.get(), "header");
    archive_entry_free(entry);
    if (!m.bytes.empty() &&
        archive_write_data(a.get(), m.bytes.data(), m.bytes.size()) < 0) {
      Check(ARCHIVE_FATAL, a.get(), "data");
    }
  }
  Check(archive_write_close(a.get()), a.get(), "close");
  buffer.resize(used);
  return buffer;
}

std::string Compress(const std::string& filter, const std::string& bytes) {
  std::unique_ptr<struct archive, WriterDeleter> a(archive_write_new());
  Check(archive_write_set_format_raw(a.get()), a.get(), "raw");
  Check(archive_write_add_filter_by_name(a.get(), filter.c_str()), a.get(), "filter");
  std::string buffer(bytes.size() + (1 << 20), '\0');
  size_t used = 0;
  Check(archive_write_open_memory(a.get(), buffer.data(), buffer.size(), &used), a.get(), "open");
  struct archive_entry* entry = archive_entry_new();
  archive_entry_set_filetype(entry, AE_IFREG);
  Check(archive_write_header(a.get(), entry), a.get(), "header");
  archive_entry_free(entry);
  if (!bytes.empty()) archive_write_data(a.get(), bytes.data(), bytes.size());
  Check(archive_write_close(a.get()), a.get(), "close");
  buffer.resize(used);
  return buffer;
}

std::string MakeMail(const std::string& subject, const std::string& body,
                     const std::vector<Member>& attachments) {
  const std::string boundary = "=_bulwark_test_boundary_42";
  std::string mail =
      "From: Alice Example <alice@example.com>\r\n"
      "To: Bob Example <bob@example.org>\r\n"
      "Subject: " + subject + "\r\n"
      "Date: Tue, 14 Nov 2023 10:00:00 +0000\r\n"
      "Message-ID: <test-" + std::to_string(std::hash<std::string>{}(subject + body)) + "@example.com>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n"
      "\r\n"
      "This is a multi-part message in MIME format.\r\n"
      "--" + boundary + "\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n"
      "\r\n" + body + "\r\n";
  for (const auto& a : attachments) {
    mail += "--" + boundary + "\r\n"
            "Content-Type: application/octet-stream; name=\"" + a.name + "\"\r\n"
            "Content-Disposition: attachment; filename=\"" + a.name + "\"\r\n"
            "Content-Transfer-Encoding: base64\r\n"
            "\r\n" + Base64(a.bytes);
  }
  mail += "--" + boundary + "--\r\n";
  return mail;
}

Status CollectingChildSink::Add(std::string name, content::Blob data) {
  if (children.size() >= capacity_) return ResourceExhaustedError("test sink full");
  children.push_back({std::move(name), std::string(data.view())});
  return OkStatus();
}

ScratchDir::ScratchDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "bulwark-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path ScratchDir::Write(const std::string& name, const std::string& bytes) const {
  auto file = path_ / name;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return file;
}

bool HasFinding(const std::vector<engine::Finding>& findings, engine::Category category,
                engine::UnscannableReason reason) {
  for (const auto& f : findings) {
    if (f.category == category && (reason == engine::UnscannableReason::kNone || f.reason == reason)) {
      return true;
    }
  }
  return false;
}

std::filesystem::path CorpusDir() {
  std::filesystem::path dir = BULWARK_CORPUS_DIR;
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) ? dir : std::filesystem::path();
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

CommandResult RunShell(const std::string& command, const std::filesystem::path& capture_dir) {
  std::filesystem::path out = capture_dir / "out", err = capture_dir / "err";
  std::string redirected = command + " > '" + out.string() + "' 2> '" + err.string() + "'";
  int status = std::system(redirected.c_str());
  CommandResult run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadAll(out);
  run.err = ReadAll(err);
  return run;
}

bool HaveProgram(const std::string& name) {
  return std::system(("command -v " + name + " > /dev/null 2>&1").c_str()) == 0;
}

std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool WaitForPort(std::uint16_t port, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace bulwark::testing
