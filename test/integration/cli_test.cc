// `bulwark scan` as a user runs it: the real binary, real files, exit codes and output.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "test/support/test_support.h"

namespace bulwark {
namespace {

using testing::Eicar;
using testing::MakeArchive;
using testing::MakeMail;

using testing::CommandResult;
using testing::ReadAll;
using testing::RunShell;

class CliTest : public ::testing::Test {
 protected:
  // Runs `bulwark ARGS` with the scratch dir as working directory, TMPDIR and HOME.
  CommandResult Bulwark(const std::string& args, const std::string& stdin_file = "/dev/null") {
    std::string command = "cd '" + work_.path().string() + "' && TMPDIR='" + tmp_.string() +
                          "' HOME='" + work_.path().string() + "' '" + BULWARK_BINARY + "' " +
                          args + " --no-system-clamav" +
                          (args.find("--progress") == std::string::npos ? " --progress never" : "") +
                          " < '" + stdin_file + "'";
    return RunShell(command, out_dir_.path());
  }

  void SetUp() override {
    tmp_ = work_.path() / "tmp";
    std::filesystem::create_directories(tmp_);
  }

  std::string Signatures() const {
    return "-d '" + (std::filesystem::path(BULWARK_SOURCE_DIR) / "rules" / "clamav").string() + "'";
  }

  testing::ScratchDir inputs_;
  testing::ScratchDir work_;
  testing::ScratchDir out_dir_;
  std::filesystem::path tmp_;
};

TEST_F(CliTest, ExitCodesFollowClamscan) {
  auto clean = inputs_.Write("clean.txt", "nothing to see");
  auto dirty = inputs_.Write("dirty.zip", MakeArchive("zip", {{"e.com", Eicar()}}));
  auto locked = inputs_.Write("locked.zip", MakeArchive("zip", {{"e.com", "x"}}, "", "pw"));
  EXPECT_EQ(Bulwark("scan " + clean.string()).exit_code, 0);
  CommandResult dirty_run = Bulwark("scan " + dirty.string());
  EXPECT_EQ(dirty_run.exit_code, 1);
  EXPECT_NE(dirty_run.out.find("MALICIOUS"), std::string::npos) << dirty_run.out;
  EXPECT_NE(dirty_run.out.find("e.com"), std::string::npos);
  EXPECT_EQ(Bulwark("scan " + locked.string()).exit_code, 1);  // unscannable counts
  EXPECT_EQ(Bulwark("scan /nonexistent/file").exit_code, 2);
  EXPECT_EQ(Bulwark("scan --no-such-option x").exit_code, 2);
  EXPECT_EQ(Bulwark("scan -d /nonexistent/dir " + clean.string()).exit_code, 2);
}

TEST_F(CliTest, ScansDirectoriesRecursivelyAndStdin) {
  inputs_.Write("a/b/c/deep.eml", MakeMail("hi", "body", {{"x.zip", MakeArchive("zip", {{"e", Eicar()}})}}));
  inputs_.Write("a/clean.txt", "fine");
  CommandResult run = Bulwark("scan --json " + Signatures() + " " + inputs_.path().string());
  EXPECT_EQ(run.exit_code, 1) << run.err;
  std::istringstream lines(run.out);
  std::string line;
  int documents = 0;
  int malicious = 0;
  while (std::getline(lines, line)) {
    auto doc = nlohmann::json::parse(line);
    EXPECT_EQ(doc["schema"], "bulwark.scan.v1");
    ++documents;
    if (doc["verdict"] == "malicious") {
      ++malicious;
      EXPECT_EQ(doc["type"]["kind"], "email");
      EXPECT_EQ(doc["findings"][0]["path"][0], "x.zip");
    }
  }
  EXPECT_EQ(documents, 2);
  EXPECT_EQ(malicious, 1);

  auto piped = inputs_.Write("stdin.bin", Eicar());
  CommandResult from_stdin = Bulwark("scan -", piped.string());
  EXPECT_EQ(from_stdin.exit_code, 1);
  EXPECT_NE(from_stdin.out.find("stdin: MALICIOUS"), std::string::npos) << from_stdin.out;
}

TEST_F(CliTest, LimitsAreConfigurable) {
  auto nested = inputs_.Write("n.zip", MakeArchive("zip", {{"i.zip", MakeArchive("zip", {{"f", "clean"}})}}));
  EXPECT_EQ(Bulwark("scan " + nested.string()).exit_code, 0);
  CommandResult limited = Bulwark("scan --json --max-depth 1 " + nested.string());
  EXPECT_EQ(limited.exit_code, 1);
  EXPECT_NE(limited.out.find("depth-limit"), std::string::npos) << limited.out;
  auto big = inputs_.Write("big.txt", std::string(4096, 'a'));
  CommandResult too_big = Bulwark("scan --json --max-file-size 1K " + big.string());
  EXPECT_EQ(too_big.exit_code, 1);
  EXPECT_NE(too_big.out.find("object-size-limit"), std::string::npos) << too_big.out;
}

TEST_F(CliTest, ProgressBarDrawsOnStandardErrorOnly) {
  for (int i = 0; i < 5; ++i) inputs_.Write("f" + std::to_string(i) + ".txt", "text " + std::to_string(i));
  CommandResult run = Bulwark("scan --json --progress always " + inputs_.path().string());
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("5/5 files"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find('\r'), std::string::npos);  // stdout stays machine-readable
}

TEST_F(CliTest, DlpIsOptInAndShowsOnlyMaskedSamples) {
  auto file = inputs_.Write("customers.csv",
                            "name,card\nAda,4111111111111111\nBob,5555555555554444\n");
  EXPECT_EQ(Bulwark("scan " + file.string()).exit_code, 0);  // off by default
  CommandResult run = Bulwark("scan --json --dlp " + file.string());
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.out.find("DLP.PCI-DSS"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("policy_violation"), std::string::npos);
  EXPECT_EQ(run.out.find("4111111111111111"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("5555555555554444"), std::string::npos) << run.out;
}

TEST_F(CliTest, HelpDocumentsEveryOption) {
  CommandResult help = Bulwark("scan --help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* option : {"--json", "--dlp", "--signatures", "--threads", "--max-depth", "--max-objects",
                             "--max-total-size", "--max-object-size", "--max-ratio",
                             "--max-scan-time", "--progress"}) {
    EXPECT_NE(help.out.find(option), std::string::npos) << option;
  }
}

// Promise 1: content never reaches disk. Scan content carrying a unique marker, then
// search everything the process could have written for it.
TEST_F(CliTest, ContentNeverReachesDiskOrOutput) {
 std::set<std::string> shm_before;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    shm_before.insert(entry.path().filename().string());
  }
  const std::string marker = "BULWARK-PRIVACY-MARKER-" + std::to_string(::getpid()) + "-7f3a9c";
  std::string document = "Quarterly numbers. " + marker + " End.";
  std::string mail = MakeMail("Numbers", "See attached " + marker,
                              {{"report.zip", MakeArchive("zip", {{"report.txt", document},
                                                                  {"e.com", Eicar()}})},
                               {"doc.pdf", testing::MakePdfWithAttachments({{"inner.txt", document}})}});
  auto input = inputs_.Write("private.eml", mail);
  CommandResult run = Bulwark("scan --json " + Signatures() + " " + input.string());
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.out.find(marker), std::string::npos);
  EXPECT_EQ(run.err.find(marker), std::string::npos);
  std::vector<std::filesystem::path> roots = {work_.path(), "/dev/shm"};
  std::size_t files_checked = 0;
  for (const auto& root : roots) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(
             root, std::filesystem::directory_options::skip_permission_denied, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (!it->is_regular_file(ec)) continue;
      ++files_checked;
      EXPECT_EQ(ReadAll(it->path()).find(marker), std::string::npos) << it->path();
    }
  }
  // The process's private libclamav directory is gone with it.
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    std::string name = entry.path().filename().string();
    if (shm_before.count(name) != 0) continue;
    EXPECT_EQ(name.rfind("bulwark-clamav-", 0), std::string::npos) << "left behind: " << entry.path();
  }
  (void)files_checked;
}

}  // namespace
}  // namespace bulwark
