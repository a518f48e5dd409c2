#pragma once
// Helpers for tests: test material built in code (EICAR, archives, mail), sinks that
// collect what unpackers emit, and scratch directories.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "bulwark/engine/finding.h"
#include "bulwark/engine/limits.h"
#include "bulwark/engine/scan_context.h"
#include "bulwark/engine/unpacker.h"

namespace bulwark::testing {

// The 68-byte EICAR test string, assembled at run time so that no source file of ours
// carries it literally.
std::string Eicar();

struct Member {
  std::string name;
  std::string bytes;
};

// An archive in memory, written with libarchive. `format`: "zip", "7zip", "tar",
// "iso9660", "cpio"; `filter`: "", "gzip", "bzip2", "xz". A non-empty `passphrase`
// encrypts zip members (ZipCrypto).
std::string MakeArchive(const std::string& format, const std::vector<Member>& members,
                        const std::string& filter = "", const std::string& passphrase = "");
// A single gzip/bzip2/xz stream of `bytes` (no archive format inside).
std::string Compress(const std::string& filter, const std::string& bytes);

// A multipart/mixed message with a text body and base64 attachments.
std::string MakeMail(const std::string& subject, const std::string& body,
                     const std::vector<Member>& attachments);

// A one-page PDF with the given embedded files (attachments), written by qpdf.
std::string MakePdfWithAttachments(const std::vector<Member>& attachments);
// A one-page PDF that runs `script` (JavaScript) when opened.
std::string MakePdfWithOpenActionScript(const std::string& script);

// Collects what an unpacker emits; optionally refuses after `capacity` children.
class CollectingChildSink : public engine::ChildSink {
 public:
  explicit CollectingChildSink(std::size_t capacity = static_cast<std::size_t>(-1))
      : capacity_(capacity) {}
  Status Add(std::string name, content::Blob data) override;
  std::vector<Member> children;

 private:
  std::size_t capacity_;
};

// A unique directory under the system temp dir, removed with everything in it.
// The whole content of a file ("" when it cannot be read).
std::string ReadAll(const std::filesystem::path& path);

// What a command run through the shell did.
struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string out;
  std::string err;
};
// Runs `command` with /bin/sh, its standard output and error captured in files under
// `capture_dir` (overwritten on each call).
CommandResult RunShell(const std::string& command, const std::filesystem::path& capture_dir);

class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path Write(const std::string& name, const std::string& bytes) const;

 private:
  std::filesystem::path path_;
};

// True when a finding of `category` (and, unless kNone, `reason`) is in `findings`.
bool HasFinding(const std::vector<engine::Finding>& findings, engine::Category category,
                engine::UnscannableReason reason = engine::UnscannableReason::kNone);

// ../shared/corpus, or "" when it is not there.
std::filesystem::path CorpusDir();

// Real peers on loopback (the front-end tests: clamd, ICAP, SMTP gateway, milter).
// True when `name` is a program on PATH.
bool HaveProgram(const std::string& name);
// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t FreePort();
// True once something accepts connections on 127.0.0.1:`port`, false after `limit`.
bool WaitForPort(std::uint16_t port, std::chrono::seconds limit);

// A child process with its output (stdout and stderr) in a log file; terminated (SIGTERM,
// then SIGKILL after 5 s) when destroyed.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

}  // namespace bulwark::testing
