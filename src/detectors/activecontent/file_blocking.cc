#include "detectors/activecontent/file_blocking.h"

#include <string>
#include <unordered_set>

#include "detectors/activecontent/ascii.h"
#include "detectors/activecontent/file_names.h"

namespace bulwark::detectors {
namespace {

std::string Where(std::size_t rule, std::string_view field, std::size_t item) {
  return "rules[" + std::to_string(rule) + "]." + std::string(field) + "[" + std::to_string(item) +
         "]: ";
}

bool IsLabelChar(char c) { return activecontent::IsAlnum(c) || c == '_' || c == '-'; }
bool IsExtensionChar(char c) {
  return activecontent::IsAlnum(c) || c == '_' || c == '-' || c == '+';
}

}  // namespace

Status ValidateFileBlockingRules(const FileBlockingRules& rules) {
  std::unordered_set<std::string> labels;
  for (std::size_t r = 0; r < rules.rules.size(); ++r) {
    const FileBlockingRule& rule = rules.rules[r];
    const std::string at = "rules[" + std::to_string(r) + "]";
    if (rule.label.empty() || rule.label.size() > 64) {
      return InvalidArgumentError(at + ".label: must be 1 to 64 characters");
    }
    for (char c : rule.label) {
      if (!IsLabelChar(c)) {
        return InvalidArgumentError(at + ".label: only letters, digits, '_' and '-' allowed");
      }
    }
    if (!labels.insert(activecontent::ToLowerAscii(rule.label)).second) {
      return InvalidArgumentError(at + ".label: duplicate label \"" + rule.label + "\"");
    }
    if (rule.kinds.empty() && rule.extensions.empty() && rule.name_patterns.empty()) {
      return InvalidArgumentError(at + ": no kinds, extensions or name patterns");
    }
    for (std::size_t e = 0; e < rule.extensions.size(); ++e) {
      std::string_view ext = rule.extensions[e];
      if (!ext.empty() && ext.front() == '.') ext.remove_prefix(1);
      if (ext.empty()) return InvalidArgumentError(Where(r, "extensions", e) + "empty extension");
      for (char c : ext) {
        if (!IsExtensionChar(c)) {
          return InvalidArgumentError(Where(r, "extensions", e) +
                                      "only letters, digits, '_', '-' and '+' allowed");
        }
      }
    }
    for (std::size_t p = 0; p < rule.name_patterns.size(); ++p) {
      const std::string& pattern = rule.name_patterns[p];
      if (pattern.empty())
        return InvalidArgumentError(Where(r, "name_patterns", p) + "empty pattern");
      if (pattern.size() > 255) {
        return InvalidArgumentError(Where(r, "name_patterns", p) + "longer than 255 bytes");
      }
      for (char c : pattern) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '/' || c == '\\') {
          return InvalidArgumentError(Where(r, "name_patterns", p) +
                                      "control characters and path separators not allowed");
        }
      }
    }
  }
  return OkStatus();
}

namespace activecontent {

FileBlocking::FileBlocking(FileBlockingRules rules) : rules_(std::move(rules)) {
  for (FileBlockingRule& rule : rules_.rules) {
    for (std::string& ext : rule.extensions) {
      if (!ext.empty() && ext.front() == '.') ext.erase(0, 1);
    }
  }
}

void FileBlocking::Check(const content::ObjectInfo& info, engine::FindingSink& findings) const {
  const std::string_view base = BaseName(info.name);
  const std::string_view extension = Extension(info.name);
  for (const FileBlockingRule& rule : rules_.rules) {
    std::string detail;
    for (content::FileKind kind : rule.kinds) {
      if (kind == info.type.kind) {
        detail = "true type " + std::string(content::FileKindName(kind));
        break;
      }
    }
    for (std::size_t i = 0; detail.empty() && i < rule.extensions.size(); ++i) {
      if (!extension.empty() && EqualsIgnoreCase(extension, rule.extensions[i])) {
        detail = "extension ." + rule.extensions[i];
      }
    }
    for (std::size_t i = 0; detail.empty() && i < rule.name_patterns.size(); ++i) {
      if (!base.empty() && GlobMatch(rule.name_patterns[i], base)) {
        detail = "name pattern " + rule.name_patterns[i];
      }
    }
    if (detail.empty()) continue;
    engine::Finding finding;
    finding.detector = "activecontent";
    finding.name = "FileBlocking." + rule.label;
    finding.category = engine::Category::kPolicy;
    finding.severity = engine::Severity::kMedium;
    finding.detail = std::move(detail);
    findings.Add(std::move(finding));
  }
}

}  // namespace activecontent
}  // namespace bulwark::detectors
