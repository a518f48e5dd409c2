// Measures the phishing score on message corpora as the product computes it: every file
// under each directory given is scanned by an engine with the standard extensions (built-in
// rules only, no DNS, nothing fetched; URL findings, active content and file names count,
// as they do in `bulwark scan`), then scored from those findings at several thresholds.
// Prints, per directory, how many messages reach each threshold and how many the scan
// calls anything but clean; with --reasons how often each signal contributed to a
// message's score; with --list every message's score and reasons.
// bench/phishing_measure.sh runs it on ../shared/corpus for docs/BENCHMARKS.md.
//   phishing_corpus [--reasons] [--list] DIR...
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bulwark/content/blob.h"
#include "bulwark/engine/engine.h"
#include "detectors/phishing/phishing_score.h"
#include "extensions/standard_extensions.h"

namespace fs = std::filesystem;
using namespace bulwark;

int main(int argc, char** argv) {
  bool show_reasons = false, list = false;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--reasons") {
      show_reasons = true;
    } else if (arg == "--list") {
      list = true;
    } else {
      dirs.push_back(arg);
    }
  }
  engine::EngineOptions options;
  options.cache_entries = 0;
  options.signatures.system_clamav_directory.clear();
  engine::Registry registry;
  extensions::RegisterStandardExtensions(registry);
  auto engine = engine::Engine::Create(std::move(options), std::move(registry));
  if (!engine.ok()) {
    std::fprintf(stderr, "phishing_corpus: %s\n", engine.status().message().c_str());
    return 1;
  }
  static constexpr std::array<double, 4> kThresholds = {2.5, 3, 3.5, 4};
  const phishing::PhishingScorer scorer;  // default threshold; the others compare the score

  for (const auto& dir : dirs) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::array<std::size_t, kThresholds.size()> flagged{};
    std::size_t not_clean = 0;
    std::map<std::string, std::size_t> reasons;
    for (const auto& path : files) {
      auto blob = content::Blob::ReadFile(path.string(), 64 << 20);
      if (!blob.ok()) continue;
      const std::string bytes(blob.value().view());
      content::Object object;
      object.info.name = path.filename().string();
      object.data = std::move(blob).value();
      engine::ScanReport report = (*engine)->Scan(std::move(object));
      if (report.verdict.kind != policy::VerdictKind::kClean) ++not_clean;
      std::erase_if(report.findings,
                    [](const engine::Finding& f) { return f.detector == "phishing"; });
      phishing::Assessment assessment = scorer.Score(bytes, report.findings, report.urls);
      for (std::size_t t = 0; t < kThresholds.size(); ++t) {
        if (assessment.score >= kThresholds[t]) ++flagged[t];
      }
      for (const auto& r : assessment.reasons) ++reasons[r.signal];
      if (list) {
        std::printf("%s\t%.1f\t%s\n", path.filename().c_str(), assessment.score,
                    phishing::ToFinding(assessment).detail.c_str());
      }
    }
    const double n = files.empty() ? 1.0 : static_cast<double>(files.size());
    std::printf("%s: %zu messages; not clean %zu (%.1f %%); Phishing.Score at", dir.c_str(),
                files.size(), not_clean, 100.0 * not_clean / n);
    for (std::size_t t = 0; t < kThresholds.size(); ++t) {
      std::printf(" %g: %zu (%.1f %%)%s", kThresholds[t], flagged[t], 100.0 * flagged[t] / n,
                  t + 1 < kThresholds.size() ? "," : "\n");
    }
    if (show_reasons) {
      std::vector<std::pair<std::string, std::size_t>> sorted(reasons.begin(), reasons.end());
      std::sort(sorted.begin(), sorted.end(),
                [](const auto& a, const auto& b) { return a.second > b.second; });
      for (const auto& [signal, count] : sorted) {
        std::printf("    %-32s %5zu (%.1f %%)\n", signal.c_str(), count, 100.0 * count / n);
      }
    }
  }
  return 0;
}
