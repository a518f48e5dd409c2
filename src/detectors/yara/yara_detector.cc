#include "detectors/yara/yara_detector.h"

#include <yara.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "detectors/common/signature_files.h"
#include "rules/builtin_rules.h"

namespace bulwark::detectors {
namespace {

// Keeps libyara initialised while alive (yr_initialize is reference counted).
class YaraLibrary {
 public:
  YaraLibrary() : status_(yr_initialize()) {}
  ~YaraLibrary() {
    if (status_ == ERROR_SUCCESS) yr_finalize();
  }
  YaraLibrary(const YaraLibrary&) = delete;
  YaraLibrary& operator=(const YaraLibrary&) = delete;
  bool ok() const { return status_ == ERROR_SUCCESS; }

 private:
  int status_;
};

struct CompilerDeleter {
  void operator()(YR_COMPILER* compiler) const { yr_compiler_destroy(compiler); }
};
struct RulesDeleter {
  void operator()(YR_RULES* rules) const { yr_rules_destroy(rules); }
};
struct ScannerDeleter {
  void operator()(YR_SCANNER* scanner) const { yr_scanner_destroy(scanner); }
};
using CompilerPtr = std::unique_ptr<YR_COMPILER, CompilerDeleter>;
using RulesPtr = std::unique_ptr<YR_RULES, RulesDeleter>;
using ScannerPtr = std::unique_ptr<YR_SCANNER, ScannerDeleter>;

// Collects the first compile error as "file:line: message".
struct CompileErrors {
  std::string first;
  static void Callback(int level, const char* file, int line, const YR_RULE*, const char* message,
                       void* user) {
    if (level != YARA_ERROR_LEVEL_ERROR) return;
    auto* self = static_cast<CompileErrors*>(user);
    if (!self->first.empty()) return;
    self->first = std::string(file != nullptr ? file : "<rules>") + ":" + std::to_string(line) +
                  ": " + (message != nullptr ? message : "error");
  }
};

// A compiler that refuses `include` directives: rules come only from the files we list.
Result<CompilerPtr> NewCompiler(CompileErrors& errors) {
  YR_COMPILER* raw = nullptr;
  if (yr_compiler_create(&raw) != ERROR_SUCCESS) return ResourceExhaustedError("yara: out of memory");
  CompilerPtr compiler(raw);
  yr_compiler_set_callback(compiler.get(), &CompileErrors::Callback, &errors);
  yr_compiler_set_include_callback(
      compiler.get(),
      [](const char*, const char*, const char*, void*) -> const char* { return nullptr; }, nullptr,
      nullptr);
  if (yr_compiler_define_string_variable(compiler.get(), "filename", "") != ERROR_SUCCESS ||
      yr_compiler_define_integer_variable(compiler.get(), "depth", 0) != ERROR_SUCCESS) {
    return InternalError("yara: cannot define external variables");
  }
  return compiler;
}

Status AddSource(YR_COMPILER* compiler, CompileErrors& errors, const std::string& source,
                 const std::string& name_space, const std::string& file_name) {
  int error_count = yr_compiler_add_string(compiler, source.c_str(), name_space.c_str());
  if (error_count == 0) return OkStatus();
  std::string message = errors.first.empty() ? "compile error" : errors.first;
  // libyara names the file "<rules>" for strings; give the operator the real file.
  if (message.rfind("<rules>", 0) == 0) message.replace(0, 7, file_name);
  return InvalidArgumentError("yara: " + message);
}

engine::Category CategoryFromMeta(std::string_view value) {
  if (value == "suspicious") return engine::Category::kSuspicious;
  if (value == "policy") return engine::Category::kPolicy;
  return engine::Category::kMalware;
}

engine::Severity SeverityFromMeta(std::string_view value) {
  if (value == "info") return engine::Severity::kInfo;
  if (value == "low") return engine::Severity::kLow;
  if (value == "medium") return engine::Severity::kMedium;
  if (value == "critical") return engine::Severity::kCritical;
  return engine::Severity::kHigh;
}

class YaraDetector : public engine::Detector {
 public:
  // `rules` is null when there were no rules to compile.
  YaraDetector(std::unique_ptr<YaraLibrary> library, RulesPtr rules)
      : library_(std::move(library)),
        rules_(std::move(rules)),
        has_rules_(rules_ != nullptr && rules_->num_rules > 0) {}
  ~YaraDetector() override {
    rules_.reset();  // before the library is finalised
  }

  std::string_view Name() const override { return "yara"; }
  bool Accepts(const content::ObjectInfo& object) const override {
    return has_rules_ && object.size > 0;
  }

  Status Inspect(const content::Object& object, engine::ScanContext& ctx,
                 engine::FindingSink& findings) const override {
    YR_SCANNER* raw = nullptr;
    if (yr_scanner_create(rules_.get(), &raw) != ERROR_SUCCESS) {
      return ResourceExhaustedError("yara: cannot create a scanner");
    }
    ScannerPtr scanner(raw);
    yr_scanner_set_flags(scanner.get(), SCAN_FLAGS_FAST_MODE);
    yr_scanner_set_timeout(scanner.get(), ctx.SecondsLeft());
    yr_scanner_define_string_variable(scanner.get(), "filename", object.info.name.c_str());
    yr_scanner_define_integer_variable(scanner.get(), "depth", object.info.depth);
    yr_scanner_set_callback(scanner.get(), &YaraDetector::OnMessage, &findings);
    int result = yr_scanner_scan_mem(scanner.get(),
                                     reinterpret_cast<const uint8_t*>(object.bytes().data()),
                                     object.bytes().size());
    if (result == ERROR_SUCCESS) return OkStatus();
    if (result == ERROR_SCAN_TIMEOUT) return DeadlineExceededError("yara: scan timed out");
    return InternalError("yara: scan failed with error " + std::to_string(result));
  }

 private:
  static int OnMessage(YR_SCAN_CONTEXT*, int message, void* data, void* user) {
    if (message != CALLBACK_MSG_RULE_MATCHING) return CALLBACK_CONTINUE;
    const auto* rule = static_cast<YR_RULE*>(data);
    engine::Finding finding;
    finding.detector = "yara";
    finding.name = rule->identifier;
    finding.category = engine::Category::kMalware;
    finding.severity = engine::Severity::kHigh;
    const YR_META* meta = nullptr;
    yr_rule_metas_foreach(rule, meta) {
      if (meta->type != META_TYPE_STRING || meta->string == nullptr) continue;
      std::string_view key = meta->identifier;
      if (key == "category") finding.category = CategoryFromMeta(meta->string);
      if (key == "severity") finding.severity = SeverityFromMeta(meta->string);
      if (key == "description") finding.detail = meta->string;
    }
    static_cast<engine::FindingSink*>(user)->Add(std::move(finding));
    return CALLBACK_CONTINUE;
  }

  std::unique_ptr<YaraLibrary> library_;
  RulesPtr rules_;  // constant after construction; scanned concurrently
  bool has_rules_;
};

}  // namespace

Status CompileYaraSource(std::string_view source) {
  YaraLibrary library;
  if (!library.ok()) return InternalError("yara: cannot initialise libyara");
  CompileErrors errors;
  BULWARK_ASSIGN_OR_RETURN(CompilerPtr compiler, NewCompiler(errors));
  return AddSource(compiler.get(), errors, std::string(source), "default", "<input>");
}

Result<engine::DetectorPtr> CreateYaraDetector(const engine::SignatureSources& sources) {
  auto library = std::make_unique<YaraLibrary>();
  if (!library->ok()) return InternalError("yara: cannot initialise libyara");
  const auto files = ListSignatureFiles(sources.directories, {".yar", ".yara"});
  if (!sources.builtin_rules && files.empty()) {
    // Nothing to compile: libyara's empty rule set still costs milliseconds at start-up.
    return engine::DetectorPtr(std::make_unique<YaraDetector>(std::move(library), nullptr));
  }
  CompileErrors errors;
  BULWARK_ASSIGN_OR_RETURN(CompilerPtr compiler, NewCompiler(errors));
  if (sources.builtin_rules) {
    BULWARK_RETURN_IF_ERROR(AddSource(compiler.get(), errors,
                                      std::string(rules::BuiltinYaraRules()), "bulwark",
                                      "builtin:bulwark.yar"));
  }
  for (const auto& file : files) {
    BULWARK_ASSIGN_OR_RETURN(std::string text, ReadSignatureFile(file));
    // One namespace per file, so two files may use the same rule name.
    BULWARK_RETURN_IF_ERROR(
        AddSource(compiler.get(), errors, text, file.stem().string(), file.string()));
  }
  YR_RULES* raw_rules = nullptr;
  if (yr_compiler_get_rules(compiler.get(), &raw_rules) != ERROR_SUCCESS) {
    return ResourceExhaustedError("yara: cannot build the compiled rules");
  }
  RulesPtr rules(raw_rules);
  compiler.reset();
  return engine::DetectorPtr(std::make_unique<YaraDetector>(std::move(library), std::move(rules)));
}

void RegisterYaraDetector(engine::Registry& registry) { registry.AddDetector(CreateYaraDetector); }

}  // namespace bulwark::detectors
