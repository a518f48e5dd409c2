#include "detectors/clamav/clamav_detector.h"

#include <clamav.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>

#include "detectors/common/signature_files.h"

namespace bulwark::detectors {
namespace {

// libclamav's own log lines go to stderr for errors only: they may name files, and the
// informational ones are noise in a scanner's output.
void ClamavMessage(enum cl_msg severity, const char* fullmsg, const char*, void*) {
  if (severity == CL_MSG_ERROR) fputs(fullmsg, stderr);
}

Status InitialiseLibrary() {
  static std::once_flag once;
  static cl_error_t result = CL_SUCCESS;
  std::call_once(once, [] {
    cl_set_clcb_msg(&ClamavMessage);
    result = cl_init(CL_INIT_DEFAULT);
  });
  if (result != CL_SUCCESS) return InternalError(std::string("clamav: ") + cl_strerror(result));
  return OkStatus();
}

constexpr std::string_view kTempPrefix = "bulwark-clamav-";

// Removes private directories left by processes that died without cleaning up (named
// bulwark-clamav-<pid>-XXXXXX): a crash must not leave content behind for long.
void RemoveStaleTempDirs(const std::filesystem::path& base) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(base, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(kTempPrefix, 0) != 0) continue;
    pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + kTempPrefix.size()));
    if (pid <= 0 || pid == getpid()) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    std::error_code remove_ec;
    std::filesystem::remove_all(entry.path(), remove_ec);
  }
}

// A private directory for libclamav's temporary files, on tmpfs when possible.
class PrivateTempDir {
 public:
  static Result<std::unique_ptr<PrivateTempDir>> Create() {
    std::error_code ec;
    std::string base = std::filesystem::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0
                           ? "/dev/shm"
                           : std::filesystem::temp_directory_path(ec).string();
    RemoveStaleTempDirs(base);
    std::string pattern =
        base + "/" + std::string(kTempPrefix) + std::to_string(getpid()) + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return UnavailableError("clamav: cannot create a private temporary directory in " + base);
    }
    return std::unique_ptr<PrivateTempDir>(new PrivateTempDir(pattern));
  }
  ~PrivateTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit PrivateTempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct EngineDeleter {
  void operator()(cl_engine* engine) const { cl_engine_free(engine); }
};
using ClamEnginePtr = std::unique_ptr<cl_engine, EngineDeleter>;

struct FmapCloser {
  void operator()(cl_fmap_t* map) const { cl_fmap_close(map); }
};

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// ClamAV parsers that duplicate one of Bulwark's own unpackers for this kind.
uint32_t ParsersHandledByBulwark(content::FileKind kind) {
  using content::FileKind;
  switch (kind) {
    case FileKind::kEmail: return CL_SCAN_PARSE_MAIL;
    case FileKind::kPdf: return CL_SCAN_PARSE_PDF;
    case FileKind::kOoxml:
    case FileKind::kOdf: return CL_SCAN_PARSE_ARCHIVE | CL_SCAN_PARSE_XMLDOCS;
    default: return content::IsArchiveKind(kind) ? CL_SCAN_PARSE_ARCHIVE : 0;
  }
}

class ClamavDetector : public engine::Detector {
 public:
  ClamavDetector(std::unique_ptr<PrivateTempDir> temp, ClamEnginePtr engine, unsigned signatures)
      : temp_(std::move(temp)), engine_(std::move(engine)), signatures_(signatures) {}
  ~ClamavDetector() override { engine_.reset(); }  // before its temporary directory goes

  std::string_view Name() const override { return "clamav"; }
  bool Accepts(const content::ObjectInfo& object) const override {
    return signatures_ > 0 && object.size > 0;
  }
  // A mail's base64 attachments are scanned decoded, as members (where libclamav's own
  // mail parser would have decoded them); its raw scan reads the rest.
  bool ReadsOwnBytes() const override { return true; }

  Status Inspect(const content::Object& object, engine::ScanContext& ctx,
                 engine::FindingSink& findings) const override {
    if (ctx.Expired()) return DeadlineExceededError("clamav: scan time limit reached");
    std::unique_ptr<cl_fmap_t, FmapCloser> map(
        cl_fmap_open_memory(object.bytes().data(), object.bytes().size()));
    if (map == nullptr) return ResourceExhaustedError("clamav: cannot map object");
    cl_scan_options options{};
    options.general = CL_SCAN_GENERAL_HEURISTICS;
    options.parse = ~0u & ~ParsersHandledByBulwark(object.info.type.kind);
    options.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
    const char* virus = nullptr;
    unsigned long scanned = 0;
    cl_error_t result = cl_scanmap_callback(map.get(), object.info.name.c_str(), &virus, &scanned,
                                            engine_.get(), &options, nullptr);
    switch (result) {
      case CL_CLEAN: return OkStatus();
      case CL_VIRUS: findings.Add(FindingFor(virus != nullptr ? virus : "Unknown")); return OkStatus();
      case CL_ETIMEOUT: return DeadlineExceededError("clamav: scan time limit reached");
      default: return InternalError(std::string("clamav: ") + cl_strerror(result));
    }
  }

 private:
  static engine::Finding FindingFor(std::string_view name) {
    engine::Finding finding;
    finding.detector = "clamav";
    finding.name = std::string(name);
    finding.category = engine::Category::kMalware;
    finding.severity = engine::Severity::kHigh;
    if (StartsWith(name, "Heuristics.Limits.Exceeded")) {
      finding.category = engine::Category::kUnscannable;
      finding.reason = engine::UnscannableReason::kObjectSizeLimit;
      finding.severity = engine::Severity::kMedium;
      finding.detail = "ClamAV scan limit exceeded";
    } else if (StartsWith(name, "Heuristics.Encrypted")) {
      finding.category = engine::Category::kUnscannable;
      finding.reason = engine::UnscannableReason::kEncrypted;
      finding.severity = engine::Severity::kMedium;
      finding.detail = "encrypted content";
    } else if (StartsWith(name, "Heuristics.") || StartsWith(name, "PUA.")) {
      finding.category = engine::Category::kSuspicious;
      finding.severity = engine::Severity::kMedium;
    }
    return finding;
  }

  std::unique_ptr<PrivateTempDir> temp_;
  ClamEnginePtr engine_;  // compiled, then shared read-only by every scan
  unsigned signatures_;
};

Status Load(cl_engine* engine, const std::filesystem::path& path, unsigned& signatures) {
  cl_error_t result = cl_load(path.c_str(), engine, &signatures, CL_DB_STDOPT);
  if (result != CL_SUCCESS) {
    return InvalidArgumentError("clamav: cannot load " + path.string() + ": " + cl_strerror(result));
  }
  return OkStatus();
}

bool HoldsDatabases(const std::filesystem::path& dir) {
  return !ListSignatureFiles({dir}, {".cvd", ".cld", ".cud", ".hdb", ".hsb", ".ndb", ".ldb"}).empty();
}

}  // namespace

Result<engine::DetectorPtr> CreateClamavDetector(const engine::SignatureSources& sources) {
  BULWARK_RETURN_IF_ERROR(InitialiseLibrary());
  BULWARK_ASSIGN_OR_RETURN(auto temp, PrivateTempDir::Create());
  ClamEnginePtr engine(cl_engine_new());
  if (engine == nullptr) return ResourceExhaustedError("clamav: cannot create an engine");

  const engine::Limits& limits = sources.limits;
  cl_engine_set_str(engine.get(), CL_ENGINE_TMPDIR, temp->path().c_str());
  // libclamav's own clean-file cache ignores scan options (which vary by object kind
  // here); Bulwark's verdict cache, keyed by hash and signature version, replaces it.
  cl_engine_set_num(engine.get(), CL_ENGINE_DISABLE_CACHE, 1);
  cl_engine_set_num(engine.get(), CL_ENGINE_MAX_SCANSIZE, static_cast<long long>(limits.max_total_bytes));
  cl_engine_set_num(engine.get(), CL_ENGINE_MAX_FILESIZE, static_cast<long long>(limits.max_object_bytes));
  cl_engine_set_num(engine.get(), CL_ENGINE_MAX_RECURSION, limits.max_depth);
  cl_engine_set_num(engine.get(), CL_ENGINE_MAX_FILES, static_cast<long long>(limits.max_objects));
  cl_engine_set_num(engine.get(), CL_ENGINE_MAX_SCANTIME, limits.max_scan_time.count());

  unsigned signatures = 0;
  for (const auto& file : ListSignatureFiles(
           sources.directories, {".hdb", ".hsb", ".ndb", ".ldb", ".cvd", ".cld", ".cud", ".mdb",
                                 ".msb", ".fp", ".sfp", ".ign", ".ign2", ".ftm", ".cdb", ".idb"})) {
    BULWARK_RETURN_IF_ERROR(Load(engine.get(), file, signatures));
  }
  if (!sources.system_clamav_directory.empty() && HoldsDatabases(sources.system_clamav_directory)) {
    BULWARK_RETURN_IF_ERROR(Load(engine.get(), sources.system_clamav_directory, signatures));
  }
  if (signatures > 0) {
    cl_error_t compiled = cl_engine_compile(engine.get());
    if (compiled != CL_SUCCESS) {
      return InvalidArgumentError(std::string("clamav: cannot compile signatures: ") +
                                  cl_strerror(compiled));
    }
  }
  return engine::DetectorPtr(
      std::make_unique<ClamavDetector>(std::move(temp), std::move(engine), signatures));
}

void RegisterClamavDetector(engine::Registry& registry) {
  registry.AddDetector(CreateClamavDetector);
}

}  // namespace bulwark::detectors
