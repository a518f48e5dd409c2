// Hot paths of a scan, each on material built here: identification, hashing, the verdict
// cache, and whole scans of a clean text, a zip and a mail with an attachment.
// Run: build/bench/engine_bench  (docs/BENCHMARKS.md has figures and the machine).
#include <benchmark/benchmark.h>

#include <random>

#include "bulwark/engine/engine.h"
#include "crypto/sha256.h"
#include "extensions/standard_extensions.h"
#include "identify/type_identifier.h"
#include "test/support/test_support.h"

namespace bulwark {
namespace {

std::string Words(std::size_t bytes, unsigned seed) {
  static const char* kWords[] = {"invoice", "meeting", "quarterly", "report", "the", "and",
                                 "shipping", "account", "password", "review", "of", "to"};
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < bytes) {
    out += kWords[rng() % 12];
    out += (rng() % 9 == 0) ? ".\n" : " ";
  }
  out.resize(bytes);
  return out;
}

std::unique_ptr<engine::Engine> MakeEngine(std::size_t cache_entries) {
  engine::Registry registry;
  extensions::RegisterStandardExtensions(registry);
  engine::EngineOptions options;
  options.cache_entries = cache_entries;
  options.signatures.system_clamav_directory.clear();
  options.signatures.directories = {std::filesystem::path(BULWARK_SOURCE_DIR) / "rules" / "clamav"};
  return std::move(engine::Engine::Create(std::move(options), std::move(registry))).value();
}

content::Object MakeObject(const std::string& name, const std::string& bytes) {
  content::Object object;
  object.info.name = name;
  object.data = content::Blob::Copy(bytes);
  return object;
}

void BM_SniffKind(benchmark::State& state) {
  std::string mail = testing::MakeMail("Hello", Words(2000, 1), {});
  for (auto _ : state) benchmark::DoNotOptimize(identify::SniffKind(mail));
}
BENCHMARK(BM_SniffKind);

// Text is recognised by our own checks; unknown binary goes to libmagic.
void BM_Identify(benchmark::State& state) {
  auto identifier = std::move(identify::TypeIdentifier::Create()).value();
  std::string bytes = Words(64 * 1024, 2);
  if (state.range(0) == 1) {
    std::mt19937 rng(5);
    for (auto& c : bytes) c = static_cast<char>(rng());
  }
  for (auto _ : state) benchmark::DoNotOptimize(identifier->Identify(bytes));
  state.SetLabel(state.range(0) == 1 ? "binary (libmagic)" : "text (own checks)");
}
BENCHMARK(BM_Identify)->Arg(0)->Arg(1);

void BM_Sha256(benchmark::State& state) {
  std::string bytes = Words(static_cast<std::size_t>(state.range(0)), 3);
  for (auto _ : state) benchmark::DoNotOptimize(crypto::Sha256(bytes));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(4096)->Arg(1 << 20);

void BM_ScanText(benchmark::State& state) {
  auto engine = MakeEngine(0);
  std::string text = Words(static_cast<std::size_t>(state.range(0)), 4);
  for (auto _ : state) benchmark::DoNotOptimize(engine->Scan(MakeObject("a.txt", text)));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ScanText)->Arg(16 * 1024)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

void BM_ScanZip(benchmark::State& state) {
  auto engine = MakeEngine(0);
  std::vector<testing::Member> members;
  for (int i = 0; i < 10; ++i) members.push_back({"f" + std::to_string(i) + ".txt", Words(50000, 10 + i)});
  std::string zip = testing::MakeArchive("zip", members);
  for (auto _ : state) benchmark::DoNotOptimize(engine->Scan(MakeObject("a.zip", zip)));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 500000);
}
BENCHMARK(BM_ScanZip)->Unit(benchmark::kMicrosecond);

void BM_ScanMailWithAttachment(benchmark::State& state) {
  const bool cached = state.range(0) != 0;
  auto engine = MakeEngine(cached ? 1000 : 0);
  std::string zip = testing::MakeArchive("zip", {{"report.txt", Words(200000, 30)}});
  std::string mail = testing::MakeMail("Report", Words(3000, 31), {{"report.zip", zip}});
  for (auto _ : state) benchmark::DoNotOptimize(engine->Scan(MakeObject("m.eml", mail)));
  state.SetLabel(cached ? "verdict cache on (repeat)" : "verdict cache off");
}
BENCHMARK(BM_ScanMailWithAttachment)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace bulwark

BENCHMARK_MAIN();
