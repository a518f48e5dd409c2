#include "bulwark/engine/engine.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "crypto/sha256.h"
#include "engine/verdict_cache.h"
#include "identify/type_identifier.h"

namespace bulwark::engine {
namespace {

// Bumped whenever unpacking or detection logic changes what a scan finds, so cached
// results of an older engine are never reused.
constexpr std::string_view kEngineVersion = "bulwark-engine/2";

// A member that was scanned and whose stored form lies in its container's bytes.
struct StoredMember {
  ByteRange stored;
  content::FileKind kind;  // the member's true type
};

// Members an assessor may read as text: text, HTML, scripts, RTF, unidentified bytes, and
// mail (a text part that is a forwarded message).
bool HoldsReadableText(content::FileKind kind) {
  return content::MayHoldText(kind) || kind == content::FileKind::kEmail ||
         kind == content::FileKind::kEmpty;
}

// `bytes` without the stored forms of `members` for which `cut` is true. Ranges may come
// in any order and, from a lenient parser, overlap.
template <typename Predicate>
std::string CutOut(std::string_view bytes, std::vector<StoredMember> members, Predicate cut) {
  std::erase_if(members, [&](const StoredMember& m) { return !cut(m); });
  std::sort(members.begin(), members.end(), [](const StoredMember& a, const StoredMember& b) {
    return a.stored.begin < b.stored.begin;
  });
  std::string left;
  left.reserve(bytes.size() / 4);
  std::size_t from = 0;
  for (const StoredMember& member : members) {
    if (member.stored.begin > from) left.append(bytes.substr(from, member.stored.begin - from));
    from = std::max(from, member.stored.end);
  }
  if (from < bytes.size()) left.append(bytes.substr(from));
  return left;
}

// The detectors built from one load of the signature sources. Immutable once published.
struct DetectorSet {
  std::vector<DetectorPtr> detectors;
  std::string version;
};

// A digest of what was loaded: the engine version and, for every file in the signature
// directories and their subdirectories (such as the URL feeds in urls/block/), its path,
// size and modification time.
std::string ComputeSignatureVersion(const SignatureSources& sources) {
  std::string material(kEngineVersion);
  material += sources.builtin_rules ? "|builtin" : "|no-builtin";
  auto add_directory = [&material](const std::filesystem::path& dir) {
    std::error_code ec;
    std::vector<std::filesystem::directory_entry> files;
    for (auto it = std::filesystem::recursive_directory_iterator(
             dir, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code file_ec;
      if (it->is_regular_file(file_ec)) files.push_back(*it);
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      material += "|" + file.path().string() + ":" + std::to_string(file.file_size(ec)) + ":" +
                  std::to_string(file.last_write_time(ec).time_since_epoch().count());
    }
  };
  for (const auto& dir : sources.directories) add_directory(dir);
  if (!sources.system_clamav_directory.empty()) add_directory(sources.system_clamav_directory);
  return crypto::ToHex(crypto::Sha256(material)).substr(0, 16);
}

// What scanning one object (and everything inside it) found.
struct NodeResult {
  std::vector<Finding> findings;  // paths relative to the object
  bool cacheable = true;          // false when a finding depends on the scan's context
};

void Absorb(NodeResult& into, NodeResult from, const std::string& child_name) {
  content::ObjectPath prefix({child_name});
  for (auto& finding : from.findings) {
    finding.path = finding.path.PrefixedWith(prefix);
    into.findings.push_back(std::move(finding));
  }
  into.cacheable = into.cacheable && from.cacheable;
}

void AddFinding(NodeResult& result, Finding finding) {
  if (finding.category == Category::kUnscannable && DependsOnScanContext(finding.reason)) {
    result.cacheable = false;
  }
  result.findings.push_back(std::move(finding));
}

class NodeFindings : public FindingSink {
 public:
  explicit NodeFindings(NodeResult& result) : result_(result) {}
  void Add(Finding finding) override { AddFinding(result_, std::move(finding)); }

 private:
  NodeResult& result_;
};

}  // namespace

class Engine::Impl {
 public:
  Impl(EngineOptions options, Registry registry,
       std::unique_ptr<identify::TypeIdentifier> identifier)
      : options_(std::move(options)),
        factories_(registry.detector_factories()),
        unpackers_(registry.TakeUnpackers()),
        assessors_(registry.TakeAssessors()),
        identifier_(std::move(identifier)),
        cache_(options_.cache_entries) {
    options_.signatures.limits = options_.limits;
  }

  Status Reload() {
    std::lock_guard reload_lock(reload_mu_);
    auto next = std::make_shared<DetectorSet>();
    next->version = ComputeSignatureVersion(options_.signatures);
    for (const auto& factory : factories_) {
      auto detector = factory(options_.signatures);
      if (!detector.ok()) return detector.status();
      next->detectors.push_back(std::move(detector).value());
    }
    std::lock_guard lock(set_mu_);
    current_ = std::move(next);
    return OkStatus();
  }

  std::shared_ptr<const DetectorSet> CurrentSet() const {
    std::lock_guard lock(set_mu_);
    return current_;
  }

  ScanReport Scan(content::Object object) const;
  void Reassess(std::string_view bytes, ScanReport& report) const;

  // Adds the assessors' findings about the outermost object to `result`.
  void RunAssessors(const content::ObjectInfo& root, std::string_view bytes, const RootForms& forms,
                    const std::vector<std::string>& urls, NodeResult& result) const;

  const EngineOptions& options() const { return options_; }
  VerdictCache& cache() const { return cache_; }

 private:
  class Walk;

  EngineOptions options_;  // constant after construction
  std::vector<DetectorFactory> factories_;
  std::vector<UnpackerPtr> unpackers_;
  std::vector<AssessorPtr> assessors_;
  std::unique_ptr<identify::TypeIdentifier> identifier_;
  mutable VerdictCache cache_;

  std::mutex reload_mu_;  // serialises reloads
  mutable std::mutex set_mu_;
  std::shared_ptr<const DetectorSet> current_;  // guarded by set_mu_
};

// One scan's traversal: depth first, each node looked up in the cache, inspected by
// every detector that accepts it, then opened by the first unpacker that accepts it;
// detectors that read a container's own bytes (Detector::ReadsOwnBytes) come last, on
// the bytes its scanned members did not cover.
class Engine::Impl::Walk {
 public:
  Walk(const Impl& engine, const DetectorSet& set, ScanContext& ctx)
      : engine_(engine), set_(set), ctx_(ctx) {}

  NodeResult ScanNode(const content::Object& object, const crypto::Sha256Digest& digest,
                      bool* served_from_cache) {
    const VerdictCache::Key key =
        VerdictCache::KeyFor(digest, set_.version, object.info.name, object.info.depth);
    if (auto cached = engine_.cache_.Find(key)) {
      if (served_from_cache != nullptr) *served_from_cache = true;
      return NodeResult{std::move(*cached), true};
    }
    NodeResult result;
    NodeFindings sink(result);
    if (ctx_.Expired()) {
      AddFinding(result, Finding::Unscannable("engine", UnscannableReason::kTimeLimit,
                                              "scan time limit reached before this object"));
      return result;
    }
    const std::uint64_t urls_before = ctx_.urls_noted();
    RunDetectors(object, /*own_bytes=*/false, sink, result);
    std::vector<StoredMember> scanned_members;
    RunUnpacker(object, sink, result, scanned_members);
    RunOwnBytesDetectors(object, scanned_members, sink, result);
    // The scan-wide judgements, before caching so that a cache hit carries them too: they
    // depend only on the object, its findings and its URLs.
    if (object.info.depth == 0) {
      // Assessors read what may hold text (a mail's headers and bodies); the stored forms of
      // archives, documents and images were inspected as members.
      auto binary = [](const StoredMember& m) { return !HoldsReadableText(m.kind); };
      std::string without_binary;
      std::string_view assessed = object.bytes();
      if (std::any_of(scanned_members.begin(), scanned_members.end(), binary)) {
        without_binary = CutOut(assessed, scanned_members, binary);
        assessed = without_binary;
      }
      engine_.RunAssessors(object.info, assessed, ctx_.root_forms(), ctx_.urls(), result);
    }
    // An object that held URLs (itself or anything inside it) is not cached: the cache
    // keeps hashes and finding names only, and a cache hit would leave ScanReport::urls
    // without its URLs. Keeping the URLs in the cache is not an option: a URL can carry a
    // password-reset or sign-in token, and the cache must hold nothing that was content.
    // Their SHA-256 would not do either: callers match report.urls by domain and prefix.
    if (ctx_.urls_noted() != urls_before) result.cacheable = false;
    if (result.cacheable) engine_.cache_.Insert(key, result.findings);
    return result;
  }

 private:
  class Children;

  // The detectors that read the object as a whole, or (own_bytes) its own bytes only.
  void RunDetectors(const content::Object& object, bool own_bytes, FindingSink& sink,
                    NodeResult& result) {
    for (const auto& detector : set_.detectors) {
      if (detector->ReadsOwnBytes() != own_bytes || !detector->Accepts(object.info)) continue;
      Status status = detector->Inspect(object, ctx_, sink);
      if (status.ok()) continue;
      auto reason = status.code() == StatusCode::kDeadlineExceeded ? UnscannableReason::kTimeLimit
                                                                   : UnscannableReason::kScanError;
      AddFinding(result,
                 Finding::Unscannable(std::string(detector->Name()), reason, status.message()));
    }
  }

  void RunUnpacker(const content::Object& object, FindingSink& sink, NodeResult& result,
                   std::vector<StoredMember>& scanned_members);
  void RunOwnBytesDetectors(const content::Object& object,
                            const std::vector<StoredMember>& scanned_members, FindingSink& sink,
                            NodeResult& result);

  const Impl& engine_;
  const DetectorSet& set_;
  ScanContext& ctx_;
};

// Receives one container's members and scans each as it arrives.
class Engine::Impl::Walk::Children : public ChildSink {
 public:
  Children(Walk& walk, const content::Object& parent, NodeResult& result,
           std::vector<StoredMember>& scanned_members)
      : walk_(walk), parent_(parent), result_(result), scanned_members_(scanned_members) {}

  Status Add(std::string name, content::Blob data) override {
    std::optional<content::FileKind> scanned_kind;
    return Scan(std::move(name), std::move(data), scanned_kind);
  }

  Status AddStored(std::string name, content::Blob data, ByteRange stored) override {
    std::optional<content::FileKind> scanned_kind;
    Status status = Scan(std::move(name), std::move(data), scanned_kind);
    if (scanned_kind && stored.begin < stored.end && stored.end <= parent_.bytes().size()) {
      scanned_members_.push_back({stored, *scanned_kind});
    }
    return status;
  }

 private:
  // Scans one member; `scanned_kind` is its true type once it was scanned (not when it
  // was over a limit).
  Status Scan(std::string name, content::Blob data,
              std::optional<content::FileKind>& scanned_kind) {
    ScanContext& ctx = walk_.ctx_;
    const Limits& limits = ctx.limits();
    ++index_;
    if (name.empty()) name = "part-" + std::to_string(index_);
    if (ctx.Expired()) {
      return Stop(
          UnscannableReason::kTimeLimit,
          "scan time limit reached; members from #" + std::to_string(index_) + " on not scanned",
          DeadlineExceededError("scan time limit"));
    }
    if (data.size() > limits.max_object_bytes) {
      Finding finding = Finding::Unscannable("engine", UnscannableReason::kObjectSizeLimit,
                                             "member is " + std::to_string(data.size()) +
                                                 " bytes, over the limit of " +
                                                 std::to_string(limits.max_object_bytes));
      finding.path = content::ObjectPath({name});
      AddFinding(result_, std::move(finding));
      return OkStatus();
    }
    unpacked_ += data.size();
    if (limits.ExceedsRatio(unpacked_, parent_.info.size)) {
      return Stop(UnscannableReason::kRatioLimit,
                  "compression ratio over " + std::to_string(static_cast<int>(limits.max_ratio)) +
                      " (" + std::to_string(unpacked_) + " bytes from " +
                      std::to_string(parent_.info.size) + ")",
                  ResourceExhaustedError("ratio limit"));
    }
    if (!ctx.TryAddObject()) {
      return Stop(UnscannableReason::kObjectCountLimit,
                  "object count limit of " + std::to_string(limits.max_objects) + " reached",
                  ResourceExhaustedError("object count limit"));
    }
    if (!ctx.TryAddBytes(data.size())) {
      return Stop(UnscannableReason::kTotalSizeLimit,
                  "total unpacked size limit of " + std::to_string(limits.max_total_bytes) +
                      " bytes reached",
                  ResourceExhaustedError("total size limit"));
    }
    content::Object child;
    child.info.name = name;
    child.info.size = data.size();
    child.info.depth = parent_.info.depth + 1;
    child.info.type = walk_.engine_.identifier_->Identify(data.view());
    child.data = std::move(data);
    auto digest = crypto::Sha256(child.bytes());
    Absorb(result_, walk_.ScanNode(child, digest, nullptr), name);
    scanned_kind = child.info.type.kind;
    return OkStatus();
  }

  Status Stop(UnscannableReason reason, std::string detail, Status status) {
    if (!stopped_) {
      AddFinding(result_, Finding::Unscannable("engine", reason, std::move(detail)));
      stopped_ = true;
    }
    return status;
  }

  Walk& walk_;
  const content::Object& parent_;
  NodeResult& result_;
  std::vector<StoredMember>& scanned_members_;
  std::size_t index_ = 0;
  std::uint64_t unpacked_ = 0;
  bool stopped_ = false;
};

void Engine::Impl::Walk::RunUnpacker(const content::Object& object, FindingSink& sink,
                                     NodeResult& result,
                                     std::vector<StoredMember>& scanned_members) {
  for (const auto& unpacker : engine_.unpackers_) {
    if (!unpacker->Accepts(object.info)) continue;
    if (object.info.depth >= ctx_.limits().max_depth) {
      AddFinding(result,
                 Finding::Unscannable(std::string(unpacker->Name()), UnscannableReason::kDepthLimit,
                                      "container nesting limit of " +
                                          std::to_string(ctx_.limits().max_depth) + " reached"));
      return;
    }
    Children children(*this, object, result, scanned_members);
    Status status = unpacker->Unpack(object, ctx_, children, sink);
    if (!status.ok()) {
      AddFinding(result, Finding::Unscannable(std::string(unpacker->Name()),
                                              UnscannableReason::kScanError, status.message()));
    }
    return;  // the first unpacker that accepts an object owns it
  }
}

void Engine::Impl::Walk::RunOwnBytesDetectors(const content::Object& object,
                                              const std::vector<StoredMember>& scanned_members,
                                              FindingSink& sink, NodeResult& result) {
  if (scanned_members.empty()) {
    RunDetectors(object, /*own_bytes=*/true, sink, result);
    return;
  }
  std::string own =
      CutOut(object.bytes(), scanned_members, [](const StoredMember&) { return true; });
  content::Object own_bytes;
  own_bytes.info = object.info;
  own_bytes.info.size = own.size();
  own_bytes.data = content::Blob::Own(std::move(own));
  RunDetectors(own_bytes, /*own_bytes=*/true, sink, result);
}

void Engine::Impl::RunAssessors(const content::ObjectInfo& root, std::string_view bytes,
                                const RootForms& forms, const std::vector<std::string>& urls,
                                NodeResult& result) const {
  // Each assessor sees the detectors' findings, not another assessor's.
  FindingList made;
  for (const auto& assessor : assessors_) {
    if (!assessor->Accepts(root)) continue;
    Status status = assessor->Assess(root, bytes, forms, result.findings, urls, made);
    if (!status.ok()) {
      made.Add(Finding::Unscannable(std::string(assessor->Name()), UnscannableReason::kScanError,
                                    status.message()));
    }
  }
  for (Finding& finding : made.findings()) AddFinding(result, std::move(finding));
}

void Engine::Impl::Reassess(std::string_view bytes, ScanReport& report) const {
  auto made_by_assessor = [this](const Finding& finding) {
    return std::any_of(assessors_.begin(), assessors_.end(), [&](const AssessorPtr& assessor) {
      return finding.detector == assessor->Name();
    });
  };
  NodeResult result;
  for (Finding& finding : report.findings) {
    if (!made_by_assessor(finding)) result.findings.push_back(std::move(finding));
  }
  content::ObjectInfo root{report.name, report.type, bytes.size(), 0};
  RunAssessors(root, bytes, RootForms{}, report.urls, result);
  report.findings = std::move(result.findings);
  report.verdict = policy::DecideVerdict(report.findings);
}

ScanReport Engine::Impl::Scan(content::Object object) const {
  const auto start = ScanContext::Clock::now();
  std::shared_ptr<const DetectorSet> set = CurrentSet();
  ScanContext ctx(options_.limits, start);
  ctx.AddRoot(object.bytes().size());

  object.info.size = object.bytes().size();
  object.info.depth = 0;
  object.info.type = identifier_->Identify(object.bytes());
  const auto digest = crypto::Sha256(object.bytes());

  ScanReport report;
  report.name = object.info.name;
  report.sha256 = crypto::ToHex(digest);
  report.type = object.info.type;
  report.size = object.info.size;
  report.signature_version = set->version;

  Walk walk(*this, *set, ctx);
  NodeResult result = walk.ScanNode(object, digest, &report.cached);
  report.findings = std::move(result.findings);
  report.verdict = policy::DecideVerdict(report.findings);
  report.urls = ctx.TakeUrls();
  report.objects_scanned = ctx.objects();
  report.bytes_scanned = ctx.bytes();
  report.duration =
      std::chrono::duration_cast<std::chrono::microseconds>(ScanContext::Clock::now() - start);
  return report;
}

Result<std::unique_ptr<Engine>> Engine::Create(EngineOptions options, Registry registry) {
  BULWARK_ASSIGN_OR_RETURN(auto identifier, identify::TypeIdentifier::Create());
  auto impl =
      std::make_unique<Impl>(std::move(options), std::move(registry), std::move(identifier));
  BULWARK_RETURN_IF_ERROR(impl->Reload());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

ScanReport Engine::Scan(content::Object object) const { return impl_->Scan(std::move(object)); }
void Engine::Reassess(std::string_view bytes, ScanReport& report) const {
  impl_->Reassess(bytes, report);
}
Status Engine::Reload() { return impl_->Reload(); }
std::string Engine::signature_version() const { return impl_->CurrentSet()->version; }
const Limits& Engine::limits() const { return impl_->options().limits; }

CacheStats Engine::cache_stats() const {
  return CacheStats{impl_->cache().hits(), impl_->cache().misses(), impl_->cache().size()};
}

}  // namespace bulwark::engine
