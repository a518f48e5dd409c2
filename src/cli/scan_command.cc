#include "cli/scan_command.h"

#include <unistd.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bulwark/engine/engine.h"
#include "bulwark/engine/scan_pool.h"
#include "cli/progress.h"
#include "cli/scan_output.h"
#include "extensions/standard_extensions.h"

namespace bulwark::cli {
namespace {

constexpr int kExitClean = 0;
constexpr int kExitDetection = 1;
constexpr int kExitError = 2;

struct ScanOptions {
  std::vector<std::string> paths;
  bool json = false;
  bool infected_only = false;
  bool quiet = false;
  std::string progress = "auto";
  unsigned threads = 0;
  std::vector<std::string> signature_dirs;
  std::string clamav_db = "/var/lib/clamav";
  bool no_builtin_rules = false;
  bool no_system_clamav = false;
  bool dlp = false;
  std::size_t cache_entries = 200000;
  engine::Limits limits;
  double max_scan_seconds = 60;
  bool summary = true;
};

// One thing to scan: a file on disk or standard input.
struct Input {
  std::string path;  // "-" for standard input
  std::uint64_t size = 0;
};

// Expands directories (recursively, without following symbolic links inside them) into
// files. Errors (unreadable directories, missing paths) are reported and counted.
std::vector<Input> CollectInputs(const std::vector<std::string>& paths,
                                 std::vector<std::pair<std::string, Status>>& errors) {
  std::vector<Input> inputs;
  for (const auto& path : paths) {
    if (path == "-") {
      inputs.push_back({"-", 0});
      continue;
    }
    std::error_code ec;
    auto status = std::filesystem::status(path, ec);
    if (ec) {
      errors.emplace_back(path, NotFoundError(path + ": " + ec.message()));
      continue;
    }
    if (std::filesystem::is_directory(status)) {
      std::filesystem::recursive_directory_iterator it(
          path, std::filesystem::directory_options::skip_permission_denied, ec);
      if (ec) {
        errors.emplace_back(path, PermissionDeniedError(path + ": " + ec.message()));
        continue;
      }
      std::vector<Input> in_dir;
      for (; it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
          errors.emplace_back(path, PermissionDeniedError(path + ": " + ec.message()));
          break;
        }
        std::error_code entry_ec;
        if (it->is_symlink(entry_ec) || !it->is_regular_file(entry_ec)) continue;
        in_dir.push_back({it->path().string(), it->file_size(entry_ec)});
      }
      std::sort(in_dir.begin(), in_dir.end(),
                [](const Input& a, const Input& b) { return a.path < b.path; });
      inputs.insert(inputs.end(), in_dir.begin(), in_dir.end());
    } else if (std::filesystem::is_regular_file(status)) {
      inputs.push_back({path, std::filesystem::file_size(path, ec)});
    } else {
      errors.emplace_back(path, InvalidArgumentError(path + ": not a regular file or directory"));
    }
  }
  return inputs;
}

// A scan result for an input too large to read: unscannable, never a silent pass.
engine::ScanReport OversizedReport(const std::string& path, const Status& status) {
  engine::ScanReport report;
  report.name = path;
  report.findings.push_back(engine::Finding::Unscannable(
      "engine", engine::UnscannableReason::kObjectSizeLimit, status.message()));
  report.verdict = policy::DecideVerdict(report.findings);
  return report;
}

struct Tally {
  std::uint64_t scanned = 0;
  std::uint64_t detected = 0;
  std::uint64_t errors = 0;
  std::uint64_t bytes = 0;
};

class Printer {
 public:
  Printer(const ScanOptions& options, ProgressBar& progress) : options_(options), progress_(progress) {}

  void Report(const std::string& path, const engine::ScanReport& report, Tally& tally) {
    ++tally.scanned;
    tally.bytes += report.size;
    if (report.verdict.IsDetection()) ++tally.detected;
    progress_.Advance(report.size);
    if (options_.quiet) return;
    if (options_.infected_only && !report.verdict.IsDetection()) return;
    Emit(options_.json ? FormatJson(path, report) : FormatHuman(path, report), stdout);
  }

  void Error(const std::string& path, const Status& status, Tally& tally) {
    ++tally.errors;
    progress_.Advance(0);
    if (options_.json) {
      Emit(FormatJsonError(path, status), stdout);
    } else {
      Emit(FormatHumanError(path, status), stderr);
    }
  }

 private:
  void Emit(const std::string& line, FILE* stream) {
    progress_.Clear();
    std::fputs(line.c_str(), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
  }

  const ScanOptions& options_;
  ProgressBar& progress_;
};

int RunScan(ScanOptions& options) {
  options.limits.max_scan_time =
      std::chrono::milliseconds(static_cast<long long>(options.max_scan_seconds * 1000));
  engine::EngineOptions engine_options;
  engine_options.limits = options.limits;
  engine_options.cache_entries = options.cache_entries;
  for (const auto& dir : options.signature_dirs) {
    if (!std::filesystem::is_directory(dir)) {
      std::fprintf(stderr, "bulwark scan: signature directory %s does not exist\n", dir.c_str());
      return kExitError;
    }
    engine_options.signatures.directories.emplace_back(dir);
  }
  engine_options.signatures.builtin_rules = !options.no_builtin_rules;
  engine_options.signatures.system_clamav_directory =
      options.no_system_clamav ? std::filesystem::path() : std::filesystem::path(options.clamav_db);

  engine::Registry registry;
  extensions::ExtensionOptions extension_options;
  extension_options.dlp = options.dlp;
  extensions::RegisterStandardExtensions(registry, extension_options);
  auto engine = engine::Engine::Create(std::move(engine_options), std::move(registry));
  if (!engine.ok()) {
    std::fprintf(stderr, "bulwark scan: cannot load signatures: %s\n",
                 engine.status().message().c_str());
    return kExitError;
  }

  std::vector<std::pair<std::string, Status>> collect_errors;
  std::vector<Input> inputs = CollectInputs(options.paths, collect_errors);
  std::uint64_t total_bytes = 0;
  for (const auto& input : inputs) total_bytes += input.size;

  bool show_progress = options.progress == "always" ||
                       (options.progress == "auto" && isatty(STDERR_FILENO) && !options.quiet);
  ProgressBar progress(show_progress, inputs.size(), total_bytes);
  Printer printer(options, progress);
  Tally tally;
  for (const auto& [path, status] : collect_errors) printer.Error(path, status, tally);

  const auto started = std::chrono::steady_clock::now();
  engine::ScanPool pool(**engine, options.threads);
  // Results are printed in input order; at most `window` scans are in flight, which
  // bounds the memory held by file contents.
  const std::size_t window = pool.threads() * 4;
  struct Pending {
    std::string path;
    std::optional<Status> error;
    std::future<engine::ScanReport> report;
  };
  std::deque<Pending> pending;
  auto drain_one = [&] {
    Pending& front = pending.front();
    if (front.error.has_value()) {
      if (front.error->code() == StatusCode::kResourceExhausted) {
        printer.Report(front.path, OversizedReport(front.path, *front.error), tally);
      } else {
        printer.Error(front.path, *front.error, tally);
      }
    } else {
      printer.Report(front.path, front.report.get(), tally);
    }
    pending.pop_front();
  };
  for (const auto& input : inputs) {
    if (pending.size() >= window) drain_one();
    const std::size_t max_bytes = options.limits.max_input_bytes;
    auto blob = input.path == "-" ? content::Blob::ReadDescriptor(STDIN_FILENO, max_bytes)
                                  : content::Blob::ReadFile(input.path, max_bytes);
    Pending next{input.path == "-" ? "stdin" : input.path, std::nullopt, {}};
    if (!blob.ok()) {
      next.error = blob.status();
    } else {
      content::Object object;
      object.info.name = std::filesystem::path(input.path).filename().string();
      if (input.path == "-") object.info.name = "stdin";
      object.data = std::move(blob).value();
      next.report = pool.Submit(std::move(object));
    }
    pending.push_back(std::move(next));
  }
  while (!pending.empty()) drain_one();
  progress.Clear();

  if (options.summary && !options.json && !options.quiet) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto stats = (*engine)->cache_stats();
    std::printf(
        "\n----------- SCAN SUMMARY -----------\n"
        "Signature set: %s\nScanned files: %llu\nDetections: %llu\nErrors: %llu\n"
        "Data scanned: %.2f MB\nCache hits: %llu\nTime: %.3f s (%.1f MB/s)\n",
        (*engine)->signature_version().c_str(), static_cast<unsigned long long>(tally.scanned),
        static_cast<unsigned long long>(tally.detected),
        static_cast<unsigned long long>(tally.errors), static_cast<double>(tally.bytes) / 1e6,
        static_cast<unsigned long long>(stats.hits), seconds,
        seconds > 0 ? static_cast<double>(tally.bytes) / 1e6 / seconds : 0.0);
  }
  if (tally.errors > 0) return kExitError;
  return tally.detected > 0 ? kExitDetection : kExitClean;
}

}  // namespace

void AddScanCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ScanOptions>();
  CLI::App* scan = app.add_subcommand(
      "scan", "Scan files, directories (recursively) and standard input ('-').\n"
              "Exit status: 0 clean, 1 detection (unscannable counts), 2 error.");
  scan->add_option("paths", options->paths, "Files, directories, or - for standard input")
      ->required();
  scan->add_flag("--json", options->json, "One JSON document a line (schema bulwark.scan.v1)");
  scan->add_flag("-i,--infected", options->infected_only, "Print only objects with a detection");
  scan->add_flag("-q,--quiet", options->quiet, "Print nothing; the exit status tells");
  scan->add_option("--progress", options->progress, "Progress bar on standard error")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  scan->add_flag("!--no-summary", options->summary, "Don't print the summary");
  scan->add_option("-j,--threads", options->threads, "Scan threads (0: one per core)")
      ->capture_default_str();
  scan->add_option("-d,--signatures", options->signature_dirs,
                   "Directory of signatures: ClamAV (.hdb .hsb .ndb .ldb .cvd .cld), YARA "
                   "(.yar .yara), SHA-256 lists (.sha256). Repeatable")
      ->allow_extra_args(false);
  scan->add_option("--clamav-db", options->clamav_db,
                   "System ClamAV database directory, loaded when it holds databases")
      ->capture_default_str();
  scan->add_flag("--no-system-clamav", options->no_system_clamav,
                 "Don't load the system ClamAV database directory");
  scan->add_flag("--no-builtin-rules", options->no_builtin_rules,
                 "Don't load Bulwark's built-in YARA rules and hash list");
  scan->add_flag("--dlp", options->dlp,
                 "Report sensitive data (payment cards, IBANs, national identifiers, personal "
                 "data, keys and tokens) with the built-in DLP templates; findings show masked "
                 "samples only");
  scan->add_option("--cache-entries", options->cache_entries,
                   "Verdict cache size (hashes only; 0 disables)")
      ->capture_default_str();
  auto& limits = options->limits;
  scan->add_option("--max-depth", limits.max_depth, "Nesting limit of containers")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  scan->add_option("--max-objects", limits.max_objects, "Objects per scan, the outermost included")
      ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{100000000}));
  scan->add_option("--max-total-size", limits.max_total_bytes, "Unpacked bytes per scan")
      ->capture_default_str()->transform(CLI::AsSizeValue(false));
  scan->add_option("--max-object-size", limits.max_object_bytes, "Bytes of one unpacked object")
      ->capture_default_str()->transform(CLI::AsSizeValue(false));
  scan->add_option("--max-file-size", limits.max_input_bytes, "Bytes of one input file")
      ->capture_default_str()->transform(CLI::AsSizeValue(false));
  scan->add_option("--max-ratio", limits.max_ratio, "Compression ratio limit of a container")
      ->capture_default_str()->check(CLI::PositiveNumber);
  scan->add_option("--max-scan-time", options->max_scan_seconds, "Seconds per scanned input")
      ->capture_default_str()->check(CLI::PositiveNumber);
  scan->callback([options, &exit_code] { exit_code = RunScan(*options); });
}

}  // namespace bulwark::cli
