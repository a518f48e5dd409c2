// Throughput of the "dlp" detector over plain prose with every identifier and template on
// and few matches (the common case of mail bodies), of its trigger-window pass alone, and
// the cost of a Hyperscan scratch taken from the pool versus cloned per scan.

#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "bulwark/engine/limits.h"
#include "bulwark/engine/scan_context.h"
#include "detectors/dlp/dlp_detector.h"
#include "detectors/dlp/dlp_scanner.h"
#include "detectors/dlp/trigger_windows.h"

namespace bulwark::detectors::dlp {
namespace {

// ~`bytes` of English-like prose from a fixed seed, with a payment card, an e-mail
// address and a phone number every ~64 KiB.
std::string Prose(std::size_t bytes) {
  static const char* const kWords[] = {
      "the",     "of",       "and",       "to",      "in",       "a",        "is",       "that",
      "for",     "it",       "as",        "was",     "with",     "be",       "by",       "on",
      "not",     "he",       "this",      "are",     "or",       "his",      "from",     "at",
      "which",   "but",      "have",      "an",      "had",      "they",     "you",      "were",
      "their",   "one",      "all",       "we",      "can",      "her",      "has",      "there",
      "been",    "if",       "more",      "when",    "will",     "would",    "who",      "so",
      "meeting", "invoice",  "quarterly", "report",  "customer", "shipment", "schedule", "please",
      "review",  "attached", "document",  "regards", "project",  "budget",   "2024",     "version",
      "order",   "12",       "of",        "March",   "Monday",   "team",     "update",   "thanks"};
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(kWords) - 1);
  std::string out;
  out.reserve(bytes + 64);
  std::size_t next_pii = 65536;
  while (out.size() < bytes) {
    out += kWords[pick(rng)];
    out += (rng() % 12 == 0) ? ".\n" : " ";
    if (out.size() > next_pii) {
      out += "card 4556 7375 8689 9855, mail jo@corp.example.net, tel +1 415 555 0132. ";
      next_pii += 65536;
    }
  }
  return out;
}

const std::string& Text() {
  static const std::string* text = new std::string(Prose(8u << 20));
  return *text;
}

void BM_DlpScanProse(benchmark::State& state) {
  auto scanner = DlpScanner::Create(DlpConfig());
  if (!scanner.ok()) {
    state.SkipWithError(scanner.status().ToString().c_str());
    return;
  }
  const std::string& text = Text();
  for (auto _ : state) {
    DlpScanResult result;
    benchmark::DoNotOptimize((*scanner)->Scan(text, result).ok());
    benchmark::DoNotOptimize(result.matches.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_DlpScanProse)->Unit(benchmark::kMillisecond);

void BM_DlpDetectorInspectProse(benchmark::State& state) {
  auto detector = CreateDlpDetector(DlpConfig());
  if (!detector.ok()) {
    state.SkipWithError(detector.status().ToString().c_str());
    return;
  }
  content::Object object;
  object.info.type.kind = content::FileKind::kText;
  object.data = content::Blob::Copy(Text());
  object.info.size = object.data.size();
  engine::Limits limits;
  for (auto _ : state) {
    engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
    engine::FindingList findings;
    benchmark::DoNotOptimize((*detector)->Inspect(object, ctx, findings).ok());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * object.data.size()));
}
BENCHMARK(BM_DlpDetectorInspectProse)->Unit(benchmark::kMillisecond);

// The SIMD pass that finds where digit- and colon-shaped identifiers can be (part of
// BM_DlpScanProse).
void BM_DlpTriggerWindowsProse(benchmark::State& state) {
  const std::string& text = Text();
  TriggerWindows windows;
  for (auto _ : state) {
    FindTriggerWindows(text, 65, windows);
    benchmark::DoNotOptimize(windows.windows[0].size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_DlpTriggerWindowsProse)->Unit(benchmark::kMillisecond);

// Per-scan scratch: borrowed from the pool (what Scan() does) or cloned and freed.
void BM_DlpScratchPool(benchmark::State& state) {
  auto scanner = DlpScanner::Create(DlpConfig());
  if (!scanner.ok()) return;
  for (auto _ : state) {
    hs_scratch* s = (*scanner)->AcquireScratch();
    benchmark::DoNotOptimize(s);
    (*scanner)->ReleaseScratch(s);
  }
}
BENCHMARK(BM_DlpScratchPool);

void BM_DlpScratchClone(benchmark::State& state) {
  auto scanner = DlpScanner::Create(DlpConfig());
  if (!scanner.ok()) return;
  for (auto _ : state) {
    hs_scratch* s = (*scanner)->CloneScratch();
    benchmark::DoNotOptimize(s);
    DlpScanner::FreeScratch(s);
  }
}
BENCHMARK(BM_DlpScratchClone);

}  // namespace
}  // namespace bulwark::detectors::dlp

BENCHMARK_MAIN();
