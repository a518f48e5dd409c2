#include "detectors/activecontent/vba_scan.h"

#include <array>
#include <utility>

#include "detectors/activecontent/ascii.h"

namespace bulwark::detectors::activecontent {
namespace {

// {lowercase token, name reported in a finding}.
using Keyword = std::pair<std::string_view, std::string_view>;

constexpr std::array kEntryPoints = {
    Keyword{"autoopen", "AutoOpen"},
    Keyword{"auto_open", "Auto_Open"},
    Keyword{"autoexec", "AutoExec"},
    Keyword{"autoclose", "AutoClose"},
    Keyword{"auto_close", "Auto_Close"},
    Keyword{"autonew", "AutoNew"},
    Keyword{"autoexit", "AutoExit"},
    Keyword{"document_open", "Document_Open"},
    Keyword{"document_close", "Document_Close"},
    Keyword{"document_new", "Document_New"},
    Keyword{"document_beforeclose", "Document_BeforeClose"},
    Keyword{"documentopen", "DocumentOpen"},
    Keyword{"documentbeforeclose", "DocumentBeforeClose"},
    Keyword{"workbook_open", "Workbook_Open"},
    Keyword{"workbook_close", "Workbook_Close"},
    Keyword{"workbook_beforeclose", "Workbook_BeforeClose"},
    Keyword{"workbook_activate", "Workbook_Activate"},
    Keyword{"app_workbookopen", "App_WorkbookOpen"},
    Keyword{"app_documentopen", "App_DocumentOpen"},
    Keyword{"presentation_open", "Presentation_Open"},
};

// Procedure name suffixes that ActiveX/Office events call without user action.
constexpr std::array kEntryPointSuffixes = {
    Keyword{"_activate", "*_Activate"},
    Keyword{"_painted", "*_Painted"},
    Keyword{"_layout", "*_Layout"},
};

constexpr std::array kCallIdentifiers = {
    Keyword{"shell", "Shell"},
    Keyword{"shellexecute", "ShellExecute"},
    Keyword{"shellexecutea", "ShellExecute"},
    Keyword{"createobject", "CreateObject"},
    Keyword{"getobject", "GetObject"},
    Keyword{"urldownloadtofile", "URLDownloadToFile"},
    Keyword{"urldownloadtofilea", "URLDownloadToFile"},
    Keyword{"xmlhttp", "XMLHTTP"},
    Keyword{"serverxmlhttp", "XMLHTTP"},
    Keyword{"winhttprequest", "WinHttpRequest"},
    Keyword{"callbyname", "CallByName"},
    Keyword{"environ", "Environ"},
    Keyword{"run", "Run"},
    Keyword{"kill", "Kill"},
    Keyword{"macscript", "MacScript"},
    Keyword{"savetofile", "SaveToFile"},
    Keyword{"powershell", "PowerShell"},
    Keyword{"virtualalloc", "VirtualAlloc"},
    Keyword{"virtualallocex", "VirtualAlloc"},
    Keyword{"rtlmovememory", "RtlMoveMemory"},
    Keyword{"createthread", "CreateThread"},
    Keyword{"createremotethread", "CreateRemoteThread"},
    Keyword{"writeprocessmemory", "WriteProcessMemory"},
};

// Searched inside string literals (lowercase).
constexpr std::array kStringKeywords = {
    Keyword{"wscript.shell", "WScript.Shell"},
    Keyword{"shell.application", "Shell.Application"},
    Keyword{"xmlhttp", "XMLHTTP"},
    Keyword{"winhttp", "WinHttpRequest"},
    Keyword{"adodb.stream", "ADODB.Stream"},
    Keyword{"powershell", "PowerShell"},
    Keyword{"cmd.exe", "cmd.exe"},
    Keyword{"cmd /c", "cmd.exe"},
    Keyword{"mshta", "mshta"},
    Keyword{"certutil", "certutil"},
    Keyword{"bitsadmin", "bitsadmin"},
    Keyword{"regsvr32", "regsvr32"},
    Keyword{"rundll32", "rundll32"},
    Keyword{"schtasks", "schtasks"},
};

constexpr bool IsIdentifierChar(char c) { return IsAlnum(c) || c == '_'; }
constexpr bool IsTypeSuffix(char c) {
  return c == '$' || c == '%' || c == '&' || c == '!' || c == '#' || c == '@';
}

// Linear-time tokenizer state; one per ScanVba call.
class VbaScanner {
 public:
  explicit VbaScanner(std::string_view source) : s_(source) {}

  VbaScan Run() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\n') {
        if (!continued_) {
          statement_start_ = true;
          previous_ = Previous::kOther;
        }
        continued_ = false;
        ++i_;
      } else if (c == ':') {
        statement_start_ = true;
        ++i_;
      } else if (c == '\'') {
        SkipComment();
      } else if (c == '"') {
        ReadString();
      } else if (IsAlpha(c)) {
        ReadIdentifier();
      } else if (c == '_' && IsLineEndAfter(i_ + 1)) {
        continued_ = true;  // " _" line continuation: the statement goes on
        ++i_;
      } else {
        if (!IsSpace(c)) previous_ = Previous::kOther;
        ++i_;
      }
    }
    return std::move(scan_);
  }

 private:
  enum class Previous { kOther, kProcedureKeyword };
  enum class OpenState { kNone, kOpen, kOpenFor };

  // True when only spaces/tabs and then a line end (or the end) follow `pos`.
  bool IsLineEndAfter(std::size_t pos) const {
    while (pos < s_.size() && (s_[pos] == ' ' || s_[pos] == '\t' || s_[pos] == '\r')) ++pos;
    return pos >= s_.size() || s_[pos] == '\n';
  }

  // From a comment start to the end of its line; a comment line ending in " _" continues.
  void SkipComment() {
    while (i_ < s_.size()) {
      std::size_t end = s_.find('\n', i_);
      if (end == std::string_view::npos) {
        i_ = s_.size();
        return;
      }
      std::size_t last = end;
      while (last > i_ && (s_[last - 1] == '\r' || s_[last - 1] == ' ' || s_[last - 1] == '\t')) {
        --last;
      }
      const bool continues = last > i_ && s_[last - 1] == '_' && last - 1 > i_ &&
                             (s_[last - 2] == ' ' || s_[last - 2] == '\t');
      i_ = end + 1;
      if (!continues) break;
    }
    statement_start_ = true;
    continued_ = false;
    previous_ = Previous::kOther;
  }

  // A "…" literal ("" is an escaped quote); literals end at the line end at the latest.
  void ReadString() {
    const std::size_t start = ++i_;
    while (i_ < s_.size() && s_[i_] != '\n') {
      if (s_[i_] == '"') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == '"') {
          i_ += 2;
          continue;
        }
        break;
      }
      ++i_;
    }
    const std::string_view literal = s_.substr(start, i_ - start);
    if (i_ < s_.size() && s_[i_] == '"') ++i_;
    for (const auto& [needle, name] : kStringKeywords) {
      if (ContainsIgnoreCase(literal, needle)) scan_.calls.Add(name);
    }
    previous_ = Previous::kOther;
    statement_start_ = false;
  }

  void ReadIdentifier() {
    const std::size_t start = i_;
    while (i_ < s_.size() && IsIdentifierChar(s_[i_])) ++i_;
    if (i_ < s_.size() && IsTypeSuffix(s_[i_])) ++i_;
    std::string_view token = s_.substr(start, i_ - start);
    if (IsTypeSuffix(token.back())) token.remove_suffix(1);
    const bool at_statement_start = statement_start_;
    statement_start_ = false;
    ++scan_.identifiers;

    if (at_statement_start && EqualsIgnoreCase(token, "rem")) {
      SkipComment();
      return;
    }
    if (previous_ == Previous::kProcedureKeyword) CheckEntryPoint(token);
    previous_ = (EqualsIgnoreCase(token, "sub") || EqualsIgnoreCase(token, "function"))
                    ? Previous::kProcedureKeyword
                    : Previous::kOther;

    if (token.size() > 32) return;  // longer than any keyword of ours
    for (const auto& [needle, name] : kCallIdentifiers) {
      if (EqualsIgnoreCase(token, needle)) scan_.calls.Add(name);
    }
    if (EqualsIgnoreCase(token, "chr") || EqualsIgnoreCase(token, "chrw") ||
        EqualsIgnoreCase(token, "chrb")) {
      ++scan_.chr_calls;
    }
    // Open <path> For Binary …: writing a dropped payload.
    if (at_statement_start) open_ = OpenState::kNone;
    if (at_statement_start && EqualsIgnoreCase(token, "open")) {
      open_ = OpenState::kOpen;
    } else if (open_ == OpenState::kOpen && EqualsIgnoreCase(token, "for")) {
      open_ = OpenState::kOpenFor;
    } else if (open_ == OpenState::kOpenFor) {
      if (EqualsIgnoreCase(token, "binary")) scan_.calls.Add("Open For Binary");
      open_ = OpenState::kNone;
    }
  }

  void CheckEntryPoint(std::string_view token) {
    for (const auto& [needle, name] : kEntryPoints) {
      if (EqualsIgnoreCase(token, needle)) {
        scan_.entry_points.Add(name);
        return;
      }
    }
    for (const auto& [suffix, name] : kEntryPointSuffixes) {
      if (token.size() > suffix.size() && EndsWithIgnoreCase(token, suffix)) {
        scan_.entry_points.Add(name);
        return;
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  bool statement_start_ = true;
  bool continued_ = false;
  Previous previous_ = Previous::kOther;
  OpenState open_ = OpenState::kNone;
  VbaScan scan_;
};

}  // namespace

bool LooksLikeVba(const content::ObjectInfo& info, std::string_view bytes) {
  if (StartsWithIgnoreCase(info.name, "VBA/") && EndsWithIgnoreCase(info.name, ".vba")) {
    return true;
  }
  return ContainsIgnoreCase(bytes, "attribute vb_name");
}

VbaScan ScanVba(std::string_view source) { return VbaScanner(source).Run(); }

bool HasChrObfuscation(const VbaScan& scan) {
  return scan.chr_calls >= 16 && scan.chr_calls * 10 >= scan.identifiers;
}

}  // namespace bulwark::detectors::activecontent
