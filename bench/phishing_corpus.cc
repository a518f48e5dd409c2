// Measures the phishing score on message corpora: every file under each directory given is
// scored as the "phishing" detector scores a message (no DNS, nothing fetched); prints,
// per directory, how many messages reach the threshold, and with
// --reasons how often each signal contributed. bench/phishing_measure.sh runs it on
// ../shared/corpus (phishing-dev against ham) for docs/BENCHMARKS.md.
//   phishing_corpus [--threshold X] [--reasons] [--list] DIR...
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "detectors/phishing/phishing_score.h"

namespace fs = std::filesystem;
using namespace bulwark;

int main(int argc, char** argv) {
  double threshold = phishing::ScoreOptions{}.threshold;
  bool show_reasons = false, list = false;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--threshold" && i + 1 < argc) {
      threshold = std::atof(argv[++i]);
    } else if (arg == "--reasons") {
      show_reasons = true;
    } else if (arg == "--list") {
      list = true;
    } else {
      dirs.push_back(arg);
    }
  }
  phishing::PhishingScorer scorer({threshold});

  for (const auto& dir : dirs) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::size_t flagged = 0;
    std::map<std::string, std::size_t> reasons;
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      std::string bytes = buffer.str();
      phishing::Assessment assessment = scorer.Score(bytes, {}, {});
      if (assessment.phishing()) ++flagged;
      for (const auto& r : assessment.reasons) ++reasons[r.signal];
      if (list) {
        std::printf("%s\t%.1f\t%s\n", path.filename().c_str(), assessment.score,
                    phishing::ToFinding(assessment).detail.c_str());
      }
    }
    std::printf("%-60s %5zu messages, %5zu flagged (%.1f %%) at threshold %g\n", dir.c_str(),
                files.size(), flagged, files.empty() ? 0.0 : 100.0 * flagged / files.size(),
                threshold);
    if (show_reasons) {
      for (const auto& [signal, count] : reasons) {
        std::printf("    %-32s %5zu (%.1f %%)\n", signal.c_str(), count,
                    100.0 * count / files.size());
      }
    }
  }
  return 0;
}
