#include "bulwark/engine/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "bulwark/engine/scan_pool.h"

namespace bulwark::engine {
namespace {

// A toy container: "BOX:<n>:" followed by members separated by runs of n '|', so
// "BOX:1:a|BOX:2:b||c" holds "a" and a box that holds "b" and "c".
class SplitUnpacker : public Unpacker {
 public:
  std::string_view Name() const override { return "split"; }
  bool Accepts(const content::ObjectInfo&) const override { return true; }
  Status Unpack(const content::Object& object, ScanContext&, ChildSink& children,
                FindingSink&) const override {
    std::string_view bytes = object.bytes();
    if (bytes.substr(0, 4) != "BOX:") return OkStatus();
    bytes.remove_prefix(4);
    // "BOX:" + n + ":" + payload → payload split on the n-th separator character '|'*n.
    auto colon = bytes.find(':');
    int level = std::stoi(std::string(bytes.substr(0, colon)));
    bytes.remove_prefix(colon + 1);
    std::vector<std::string> members(1);
    for (std::size_t pos = 0; pos < bytes.size();) {
      if (bytes[pos] != '|') {
        members.back().push_back(bytes[pos++]);
        continue;
      }
      std::size_t run = bytes.find_first_not_of('|', pos);
      if (run == std::string_view::npos) run = bytes.size();
      if (run - pos == static_cast<std::size_t>(level)) {
        members.emplace_back();
      } else {
        members.back().append(bytes.substr(pos, run - pos));
      }
      pos = run;
    }
    std::size_t index = 0;
    for (auto& member : members) {
      if (!children.Add("m" + std::to_string(++index), content::Blob::Own(member)).ok()) {
        return OkStatus();
      }
    }
    return OkStatus();
  }
};

// Reports "BAD" anywhere in an object; counts its inspections.
class BadDetector : public Detector {
 public:
  explicit BadDetector(std::atomic<int>& inspections) : inspections_(inspections) {}
  std::string_view Name() const override { return "bad"; }
  bool Accepts(const content::ObjectInfo&) const override { return true; }
  Status Inspect(const content::Object& object, ScanContext&,
                 FindingSink& findings) const override {
    ++inspections_;
    if (object.bytes().find("BAD") != std::string_view::npos &&
        object.bytes().substr(0, 4) != "BOX:") {
      Finding f;
      f.detector = "bad";
      f.name = "Test.Bad";
      f.category = Category::kMalware;
      findings.Add(std::move(f));
    }
    return OkStatus();
  }

 private:
  std::atomic<int>& inspections_;
};

class EngineTest : public ::testing::Test {
 protected:
  std::unique_ptr<Engine> MakeEngine(Limits limits = {}, std::size_t cache = 1000) {
    Registry registry;
    registry.AddUnpacker(std::make_unique<SplitUnpacker>());
    registry.AddDetector([this](const SignatureSources&) -> Result<DetectorPtr> {
      ++loads_;
      return DetectorPtr(std::make_unique<BadDetector>(inspections_));
    });
    EngineOptions options;
    options.limits = limits;
    options.cache_entries = cache;
    options.signatures.builtin_rules = false;
    options.signatures.system_clamav_directory.clear();
    auto engine = Engine::Create(std::move(options), std::move(registry));
    EXPECT_TRUE(engine.ok());
    return std::move(engine).value();
  }

  static content::Object Obj(std::string name, std::string bytes) {
    content::Object object;
    object.info.name = std::move(name);
    object.data = content::Blob::Own(std::move(bytes));
    return object;
  }

  std::atomic<int> inspections_{0};
  std::atomic<int> loads_{0};
};

TEST_F(EngineTest, CleanObjectIsClean) {
  auto engine = MakeEngine();
  ScanReport report = engine->Scan(Obj("a.txt", "hello"));
  EXPECT_EQ(report.verdict.kind, policy::VerdictKind::kClean);
  EXPECT_TRUE(report.findings.empty());
  EXPECT_EQ(report.size, 5u);
  EXPECT_EQ(report.sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

TEST_F(EngineTest, FindingInsideContainerCarriesItsPath) {
  auto engine = MakeEngine();
  ScanReport report = engine->Scan(Obj("outer", "BOX:1:clean|BOX:2:x||BAD"));
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].path.parts(), (std::vector<std::string>{"m2", "m2"}));
  EXPECT_EQ(report.verdict.kind, policy::VerdictKind::kMalicious);
  EXPECT_EQ(report.objects_scanned, 5u);  // outer, m1, m2, m2›m1, m2›m2
}

TEST_F(EngineTest, DepthLimitIsUnscannableNotSilent) {
  Limits limits;
  limits.max_depth = 1;
  auto engine = MakeEngine(limits);
  ScanReport report = engine->Scan(Obj("outer", "BOX:1:BOX:2:BAD"));
  bool depth = false;
  for (const auto& f : report.findings) depth |= f.reason == UnscannableReason::kDepthLimit;
  EXPECT_TRUE(depth);
  EXPECT_EQ(report.verdict.kind, policy::VerdictKind::kUnscannable);
}

TEST_F(EngineTest, ObjectCountLimitStopsUnpacking) {
  Limits limits;
  limits.max_objects = 3;
  auto engine = MakeEngine(limits);
  ScanReport report = engine->Scan(Obj("outer", "BOX:1:a|b|c|d|e"));
  EXPECT_EQ(report.objects_scanned, 3u);
  ASSERT_FALSE(report.findings.empty());
  EXPECT_EQ(report.findings.back().reason, UnscannableReason::kObjectCountLimit);
}

TEST_F(EngineTest, TotalSizeLimitStopsUnpacking) {
  Limits limits;
  limits.max_total_bytes = 30;
  auto engine = MakeEngine(limits);
  ScanReport report = engine->Scan(Obj("outer", "BOX:1:aaaaaaaaaa|bbbbbbbbbb|cccccccccc"));
  bool total = false;
  for (const auto& f : report.findings) total |= f.reason == UnscannableReason::kTotalSizeLimit;
  EXPECT_TRUE(total);
}

TEST_F(EngineTest, ExpiredDeadlineIsATimeLimitFinding) {
  Limits limits;
  limits.max_scan_time = std::chrono::milliseconds(0);
  auto engine = MakeEngine(limits);
  ScanReport report = engine->Scan(Obj("outer", "BOX:1:a|b"));
  ASSERT_FALSE(report.findings.empty());
  EXPECT_EQ(report.findings[0].reason, UnscannableReason::kTimeLimit);
}

TEST_F(EngineTest, CacheServesRepeatedObjectsWithoutInspecting) {
  auto engine = MakeEngine();
  ScanReport first = engine->Scan(Obj("a", "BOX:1:x|BAD"));
  int after_first = inspections_.load();
  ScanReport second = engine->Scan(Obj("a", "BOX:1:x|BAD"));
  EXPECT_EQ(inspections_.load(), after_first);
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(second.findings.size(), first.findings.size());
  EXPECT_EQ(second.findings[0].path.parts(), first.findings[0].path.parts());
  // A member seen before inside another container is served from the cache too.
  ScanReport third = engine->Scan(Obj("c", "BOX:1:y|BAD"));
  EXPECT_EQ(third.verdict.kind, policy::VerdictKind::kMalicious);
  EXPECT_EQ(inspections_.load(), after_first + 2);  // the container and "y" only
  EXPECT_GE(engine->cache_stats().hits, 2u);
}

// Reports objects whose name ends in ".exe": a finding that depends on the name.
class ExeNameDetector : public Detector {
 public:
  std::string_view Name() const override { return "exe-name"; }
  bool Accepts(const content::ObjectInfo&) const override { return true; }
  Status Inspect(const content::Object& object, ScanContext&,
                 FindingSink& findings) const override {
    const std::string& name = object.info.name;
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".exe") == 0) {
      Finding f;
      f.detector = "exe-name";
      f.name = "Test.ExeName";
      f.category = Category::kSuspicious;
      findings.Add(std::move(f));
    }
    return OkStatus();
  }
};

TEST(EngineCacheTest, SameBytesUnderAnotherNameAreScannedAgain) {
  Registry registry;
  registry.AddDetector([](const SignatureSources&) -> Result<DetectorPtr> {
    return DetectorPtr(std::make_unique<ExeNameDetector>());
  });
  EngineOptions options;
  options.signatures.system_clamav_directory.clear();
  auto engine = Engine::Create(std::move(options), std::move(registry));
  ASSERT_TRUE(engine.ok());
  auto scan = [&](const std::string& name) {
    content::Object object;
    object.info.name = name;
    object.data = content::Blob::Copy("same bytes");
    return (*engine)->Scan(std::move(object));
  };
  EXPECT_EQ(scan("report.txt").verdict.kind, policy::VerdictKind::kClean);
  EXPECT_EQ(scan("report.exe").verdict.kind, policy::VerdictKind::kSuspicious);
  EXPECT_TRUE(scan("report.exe").cached);
}

// Notes every whitespace-separated word that starts with "url:" as a URL.
class UrlNotingDetector : public Detector {
 public:
  std::string_view Name() const override { return "url-noting"; }
  bool Accepts(const content::ObjectInfo&) const override { return true; }
  Status Inspect(const content::Object& object, ScanContext& ctx, FindingSink&) const override {
    std::string_view bytes = object.bytes();
    if (bytes.substr(0, 4) == "BOX:") return OkStatus();
    for (std::size_t pos = bytes.find("url:"); pos != std::string_view::npos;
         pos = bytes.find("url:", pos + 1)) {
      std::size_t end = bytes.find_first_of(" |", pos);
      ctx.NoteUrl(std::string(bytes.substr(pos, end == std::string_view::npos ? end : end - pos)));
    }
    return OkStatus();
  }
};

// An engine of `registry` with the toy container, the URL-noting detector and no signatures.
std::unique_ptr<Engine> MakeUrlEngine(Registry registry = {}) {
  registry.AddUnpacker(std::make_unique<SplitUnpacker>());
  registry.AddDetector([](const SignatureSources&) -> Result<DetectorPtr> {
    return DetectorPtr(std::make_unique<UrlNotingDetector>());
  });
  EngineOptions options;
  options.signatures.builtin_rules = false;
  options.signatures.system_clamav_directory.clear();
  auto engine = Engine::Create(std::move(options), std::move(registry));
  EXPECT_TRUE(engine.ok());
  return std::move(engine).value();
}

content::Object UrlObject(std::string bytes) {
  content::Object object;
  object.info.name = "m";
  object.data = content::Blob::Own(std::move(bytes));
  return object;
}

TEST(EngineUrlTest, ReportHoldsTheUrlsOfEveryObjectOnceEach) {
  auto engine = MakeUrlEngine();
  ScanReport report = engine->Scan(UrlObject("BOX:1:url:a url:b|BOX:2:url:b||url:c"));
  EXPECT_EQ(report.urls, (std::vector<std::string>{"url:a", "url:b", "url:c"}));
}

TEST(EngineUrlTest, UrlsAreCappedPerScan) {
  auto engine = MakeUrlEngine();
  std::string text;
  for (int i = 0; i < 1500; ++i) text += "url:" + std::to_string(i) + " ";
  ScanReport report = engine->Scan(UrlObject(text));
  ASSERT_EQ(report.urls.size(), ScanContext::kMaxUrls);
  EXPECT_EQ(report.urls.front(), "url:0");
  EXPECT_EQ(report.urls.back(), "url:999");
}

TEST(EngineUrlTest, ObjectsWithUrlsAreNotCachedSoRepeatedScansKeepTheirUrls) {
  auto engine = MakeUrlEngine();
  const std::string message = "BOX:1:plain text|url:x";
  ScanReport first = engine->Scan(UrlObject(message));
  ScanReport second = engine->Scan(UrlObject(message));
  EXPECT_FALSE(second.cached);
  EXPECT_EQ(second.urls, first.urls);
  EXPECT_EQ(second.urls, (std::vector<std::string>{"url:x"}));
  // Objects without URLs are still cached.
  ScanReport plain = engine->Scan(UrlObject("no links here"));
  EXPECT_TRUE(engine->Scan(UrlObject("no links here")).cached);
  EXPECT_TRUE(plain.urls.empty());
}

// Sums what the scan found: one "Test.Tally" finding naming how many findings and URLs it
// saw, once per scan, about the outermost object; counts its calls.
class TallyAssessor : public Assessor {
 public:
  explicit TallyAssessor(std::atomic<int>& calls) : calls_(calls) {}
  std::string_view Name() const override { return "tally"; }
  bool Accepts(const content::ObjectInfo& root) const override { return root.name != "skip"; }
  Status Assess(const content::ObjectInfo& root, std::string_view bytes, const RootForms&,
                const std::vector<Finding>& findings, const std::vector<std::string>& urls,
                FindingSink& sink) const override {
    ++calls_;
    Finding f;
    f.detector = "tally";
    f.name = "Test.Tally";
    f.category = findings.size() >= 2 ? Category::kSuspicious : Category::kPolicy;
    f.detail = std::to_string(findings.size()) + " findings, " + std::to_string(urls.size()) +
               " urls, " + std::to_string(bytes.size()) + " bytes, depth " +
               std::to_string(root.depth);
    sink.Add(std::move(f));
    return OkStatus();
  }

 private:
  std::atomic<int>& calls_;
};

std::unique_ptr<Engine> MakeAssessingEngine(std::atomic<int>& calls,
                                            std::atomic<int>& inspections) {
  Registry registry;
  registry.AddDetector([&inspections](const SignatureSources&) -> Result<DetectorPtr> {
    return DetectorPtr(std::make_unique<BadDetector>(inspections));
  });
  registry.AddAssessor(std::make_unique<TallyAssessor>(calls));
  return MakeUrlEngine(std::move(registry));
}

const Finding* FindingNamed(const ScanReport& report, std::string_view name) {
  for (const auto& f : report.findings) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(EngineAssessorTest, SeesEveryFindingAndUrlOfTheScanOnceAboutTheOutermostObject) {
  std::atomic<int> calls{0}, inspections{0};
  auto engine = MakeAssessingEngine(calls, inspections);
  ScanReport report = engine->Scan(UrlObject("BOX:1:BAD url:a|BOX:2:BAD||url:b"));
  EXPECT_EQ(calls.load(), 1);
  const Finding* tally = FindingNamed(report, "Test.Tally");
  ASSERT_NE(tally, nullptr);
  EXPECT_EQ(tally->detail, "2 findings, 2 urls, 32 bytes, depth 0");
  EXPECT_TRUE(tally->path.parts().empty());
  EXPECT_EQ(report.findings.size(), 3u);
}

TEST(EngineAssessorTest, SkipsObjectsItDoesNotAccept) {
  std::atomic<int> calls{0}, inspections{0};
  auto engine = MakeAssessingEngine(calls, inspections);
  content::Object object = UrlObject("BAD");
  object.info.name = "skip";
  ScanReport report = engine->Scan(std::move(object));
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(FindingNamed(report, "Test.Tally"), nullptr);
}

TEST(EngineAssessorTest, CachedResultsCarryTheAssessment) {
  std::atomic<int> calls{0}, inspections{0};
  auto engine = MakeAssessingEngine(calls, inspections);
  ScanReport first = engine->Scan(UrlObject("plain BAD text"));
  ScanReport second = engine->Scan(UrlObject("plain BAD text"));
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(calls.load(), 1);
  const Finding* tally = FindingNamed(second, "Test.Tally");
  ASSERT_NE(tally, nullptr);
  EXPECT_EQ(tally->detail, "1 findings, 0 urls, 14 bytes, depth 0");
}

TEST(EngineAssessorTest, ReassessReplacesTheAssessmentWithOneThatWeighsAddedFindings) {
  std::atomic<int> calls{0}, inspections{0};
  auto engine = MakeAssessingEngine(calls, inspections);
  const std::string bytes = "BOX:1:BAD|url:x";
  ScanReport report = engine->Scan(UrlObject(bytes));
  EXPECT_EQ(report.verdict.kind, policy::VerdictKind::kMalicious);
  ASSERT_NE(FindingNamed(report, "Test.Tally"), nullptr);
  EXPECT_EQ(FindingNamed(report, "Test.Tally")->category, Category::kPolicy);

  Finding tenant;  // what a caller's own check adds, e.g. impersonation
  tenant.detector = "tenant";
  tenant.name = "Test.Tenant";
  tenant.category = Category::kPolicy;
  report.findings.push_back(tenant);
  engine->Reassess(bytes, report);
  EXPECT_EQ(calls.load(), 2);
  std::size_t tallies = 0;
  for (const auto& f : report.findings) tallies += f.name == "Test.Tally";
  EXPECT_EQ(tallies, 1u);  // replaced, not added
  const Finding* tally = FindingNamed(report, "Test.Tally");
  ASSERT_NE(tally, nullptr);
  EXPECT_EQ(tally->detail, "2 findings, 1 urls, 15 bytes, depth 0");
  EXPECT_EQ(tally->category, Category::kSuspicious);
  EXPECT_NE(FindingNamed(report, "Test.Tenant"), nullptr);
  EXPECT_EQ(report.verdict.kind, policy::VerdictKind::kMalicious);
}

// A toy container with stored members: "PACK:" then text in which each "{…}" holds a
// member stored reversed (its "encoding"); the member is handed on decoded, with its place.
class StoredUnpacker : public Unpacker {
 public:
  std::string_view Name() const override { return "pack"; }
  bool Accepts(const content::ObjectInfo& object) const override {
    return object.name.rfind("pack", 0) == 0;
  }
  Status Unpack(const content::Object& object, ScanContext&, ChildSink& children,
                FindingSink&) const override {
    const std::string_view bytes = object.bytes();
    int index = 0;
    for (std::size_t open = bytes.find('{'); open != std::string_view::npos;
         open = bytes.find('{', open + 1)) {
      const std::size_t close = bytes.find('}', open);
      if (close == std::string_view::npos) break;
      std::string member(bytes.substr(open + 1, close - open - 1));
      std::reverse(member.begin(), member.end());
      if (!children
               .AddStored("m" + std::to_string(++index), content::Blob::Own(std::move(member)),
                          ByteRange{open + 1, close})
               .ok()) {
        break;
      }
    }
    return OkStatus();
  }
};

// Records, in order, the bytes each object it inspects shows it.
class RecordingDetector : public Detector {
 public:
  RecordingDetector(bool own_bytes, std::vector<std::string>& seen)
      : own_bytes_(own_bytes), seen_(seen) {}
  std::string_view Name() const override { return own_bytes_ ? "own" : "whole"; }
  bool Accepts(const content::ObjectInfo&) const override { return true; }
  bool ReadsOwnBytes() const override { return own_bytes_; }
  Status Inspect(const content::Object& object, ScanContext&, FindingSink&) const override {
    seen_.push_back(std::string(Name()) + ":" + std::string(object.bytes()));
    return OkStatus();
  }

 private:
  bool own_bytes_;
  std::vector<std::string>& seen_;
};

std::vector<std::string> SeenWhenScanning(std::string bytes, Limits limits = {}) {
  std::vector<std::string> seen;
  Registry registry;
  registry.AddUnpacker(std::make_unique<StoredUnpacker>());
  for (bool own : {true, false}) {
    registry.AddDetector([own, &seen](const SignatureSources&) -> Result<DetectorPtr> {
      return DetectorPtr(std::make_unique<RecordingDetector>(own, seen));
    });
  }
  EngineOptions options;
  options.limits = limits;
  options.signatures.builtin_rules = false;
  options.signatures.system_clamav_directory.clear();
  auto engine = Engine::Create(std::move(options), std::move(registry));
  EXPECT_TRUE(engine.ok());
  content::Object object;
  object.info.name = "pack";
  object.data = content::Blob::Own(std::move(bytes));
  (void)(*engine)->Scan(std::move(object));
  return seen;
}

TEST(EngineOwnBytesTest, DetectorsReadingOwnBytesSeeTheContainerWithoutItsScannedMembers) {
  const std::vector<std::string> expected = {
      // whole-object detectors first, then each member (decoded), then the container's
      // own bytes
      "whole:PACK:head{cba}mid{fed}tail",
      "whole:abc",
      "own:abc",
      "whole:def",
      "own:def",
      "own:PACK:head{}mid{}tail",
  };
  EXPECT_EQ(SeenWhenScanning("PACK:head{cba}mid{fed}tail"), expected);
}

TEST(EngineOwnBytesTest, AMemberThatWasNotScannedStaysInTheOwnBytes) {
  Limits limits;
  limits.max_object_bytes = 3;  // "long" is over it: reported, not scanned
  const std::vector<std::string> seen = SeenWhenScanning("PACK:{gnol}{cba}", limits);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), "own:PACK:{gnol}{}");
}

TEST(EngineOwnBytesTest, WithoutStoredMembersTheyReadTheWholeObject) {
  const std::vector<std::string> expected = {"whole:PACK:plain", "own:PACK:plain"};
  EXPECT_EQ(SeenWhenScanning("PACK:plain"), expected);
}

// Records the bytes it is given about the outermost object.
class BytesAssessor : public Assessor {
 public:
  explicit BytesAssessor(std::string& seen) : seen_(seen) {}
  std::string_view Name() const override { return "bytes"; }
  bool Accepts(const content::ObjectInfo&) const override { return true; }
  Status Assess(const content::ObjectInfo&, std::string_view bytes, const RootForms&,
                const std::vector<Finding>&, const std::vector<std::string>&,
                FindingSink&) const override {
    seen_ = std::string(bytes);
    return OkStatus();
  }

 private:
  std::string& seen_;
};

TEST(EngineOwnBytesTest, AssessorsReadTextMembersInPlaceButNotBinaryOnes) {
  std::string seen;
  Registry registry;
  registry.AddUnpacker(std::make_unique<StoredUnpacker>());
  registry.AddAssessor(std::make_unique<BytesAssessor>(seen));
  EngineOptions options;
  options.signatures.builtin_rules = false;
  options.signatures.system_clamav_directory.clear();
  auto engine = Engine::Create(std::move(options), std::move(registry));
  ASSERT_TRUE(engine.ok());
  // Members stored reversed: a line of text, and a zip archive.
  std::string zip("PK\x03\x04\x14\x00\x00\x00\x08\x00 some compressed bytes", 32);
  std::string stored_zip(zip.rbegin(), zip.rend());
  content::Object object;
  object.info.name = "pack";
  object.data = content::Blob::Own("PACK:head{txet nialp emos}mid{" + stored_zip + "}tail");
  (void)(*engine)->Scan(std::move(object));
  EXPECT_EQ(seen, "PACK:head{txet nialp emos}mid{}tail");
}

// What FormKeepingUnpacker builds of an object: its size, as a stand-in for a parse.
struct SizeNote {
  std::size_t size = 0;
};

// Keeps a SizeNote of every object whose bytes start with "KEEP", at any depth; unpacks
// "KEEP:{inner}" into one member, "inner".
class FormKeepingUnpacker : public Unpacker {
 public:
  std::string_view Name() const override { return "keep"; }
  bool Accepts(const content::ObjectInfo&) const override { return true; }
  Status Unpack(const content::Object& object, ScanContext& ctx, ChildSink& children,
                FindingSink&) const override {
    const std::string_view bytes = object.bytes();
    if (bytes.rfind("KEEP", 0) != 0) return OkStatus();
    if (object.info.depth == 0) {
      ctx.root_forms().Keep(std::make_shared<const SizeNote>(SizeNote{bytes.size()}));
    }
    const std::size_t open = bytes.find('{');
    const std::size_t close = bytes.rfind('}');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
      return OkStatus();
    }
    return children.Add("inner",
                        content::Blob::Own(std::string(bytes.substr(open + 1, close - open - 1))));
  }
};

// Records the SizeNote it finds among the scan's forms, or -1.
class FormReadingAssessor : public Assessor {
 public:
  explicit FormReadingAssessor(std::vector<long>& seen) : seen_(seen) {}
  std::string_view Name() const override { return "forms"; }
  bool Accepts(const content::ObjectInfo&) const override { return true; }
  Status Assess(const content::ObjectInfo&, std::string_view, const RootForms& forms,
                const std::vector<Finding>&, const std::vector<std::string>&,
                FindingSink&) const override {
    auto note = forms.Find<SizeNote>();
    seen_.push_back(note != nullptr ? static_cast<long>(note->size) : -1);
    return OkStatus();
  }

 private:
  std::vector<long>& seen_;
};

TEST(EngineRootFormsTest, AssessorsReadWhatTheUnpackerKeptOfThisScansOutermostObject) {
  std::vector<long> seen;
  Registry registry;
  registry.AddUnpacker(std::make_unique<FormKeepingUnpacker>());
  registry.AddAssessor(std::make_unique<FormReadingAssessor>(seen));
  EngineOptions options;
  options.signatures.builtin_rules = false;
  options.signatures.system_clamav_directory.clear();
  auto engine = Engine::Create(std::move(options), std::move(registry));
  ASSERT_TRUE(engine.ok());
  auto object = [](std::string bytes) {
    content::Object o;
    o.info.name = "msg";
    o.data = content::Blob::Own(std::move(bytes));
    return o;
  };
  ScanReport kept = (*engine)->Scan(object("KEEP:{KEEP:{x}}"));
  (void)(*engine)->Scan(object("plain text"));  // a new scan starts with no forms
  (*engine)->Reassess("KEEP:{x}", kept);        // so does a later assessment
  // The member "KEEP:{x}" kept nothing (the unpacker keeps forms of depth 0 only).
  EXPECT_EQ(seen, (std::vector<long>{15, -1, -1}));
}

TEST_F(EngineTest, ContextDependentResultsAreNotCached) {
  Limits limits;
  limits.max_objects = 2;
  auto engine = MakeEngine(limits);
  (void)engine->Scan(Obj("a", "BOX:1:x|y|z"));
  ScanReport again = engine->Scan(Obj("a", "BOX:1:x|y|z"));
  EXPECT_FALSE(again.cached);
}

TEST_F(EngineTest, ReloadChangesNothingForScansAndKeepsWorking) {
  auto engine = MakeEngine();
  EXPECT_EQ(loads_.load(), 1);
  ScanPool pool(*engine, 2);
  std::vector<std::future<ScanReport>> reports;
  for (int i = 0; i < 200; ++i) {
    reports.push_back(pool.Submit(Obj("f", "BOX:1:BAD|" + std::to_string(i))));
    if (i % 50 == 0) {
      ASSERT_TRUE(engine->Reload().ok());
    }
  }
  for (auto& r : reports) EXPECT_EQ(r.get().verdict.kind, policy::VerdictKind::kMalicious);
  EXPECT_EQ(loads_.load(), 5);
}

TEST_F(EngineTest, ScansGoOnWhileANewSetLoadsInTheBackground) {
  std::atomic<bool> slow{false};
  std::atomic<bool> loading{false};
  Registry registry;
  registry.AddDetector([&](const SignatureSources&) -> Result<DetectorPtr> {
    if (slow) {
      loading = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a big database
    }
    return DetectorPtr(std::make_unique<BadDetector>(inspections_));
  });
  EngineOptions options;
  options.signatures.system_clamav_directory.clear();
  auto engine = Engine::Create(std::move(options), std::move(registry));
  ASSERT_TRUE(engine.ok());
  slow = true;
  std::thread reloader([&] { EXPECT_TRUE((*engine)->Reload().ok()); });
  while (!loading) std::this_thread::yield();
  int scanned_during_load = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < deadline) {
    EXPECT_EQ((*engine)->Scan(Obj("x", "BAD " + std::to_string(scanned_during_load))).verdict.kind,
              policy::VerdictKind::kMalicious);
    ++scanned_during_load;
  }
  reloader.join();
  EXPECT_GT(scanned_during_load, 10);
}

TEST_F(EngineTest, FailedReloadKeepsTheOldDetectors) {
  Registry registry;
  std::atomic<bool> fail{false};
  registry.AddDetector([&](const SignatureSources&) -> Result<DetectorPtr> {
    if (fail) return InvalidArgumentError("bad rules.yar:3: syntax error");
    return DetectorPtr(std::make_unique<BadDetector>(inspections_));
  });
  EngineOptions options;
  options.signatures.system_clamav_directory.clear();
  auto engine = Engine::Create(std::move(options), std::move(registry));
  ASSERT_TRUE(engine.ok());
  fail = true;
  Status status = (*engine)->Reload();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*engine)->Scan(Obj("x", "BAD")).verdict.kind, policy::VerdictKind::kMalicious);
}

TEST(ScanPoolTest, UsesEveryCoreByDefault) {
  Registry registry;
  EngineOptions options;
  options.signatures.system_clamav_directory.clear();
  auto engine = Engine::Create(std::move(options), std::move(registry));
  ASSERT_TRUE(engine.ok());
  ScanPool pool(**engine, 0);
  EXPECT_EQ(pool.threads(), std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace bulwark::engine
