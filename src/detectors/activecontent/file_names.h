#pragma once
// File-name checks: the extension taxonomy of files that run code, double extensions,
// bidirectional-control characters and names that contradict the true type. Names are
// metadata (attachment and member names), so they may appear in findings.

#include <string_view>

#include "bulwark/content/file_type.h"

namespace bulwark::detectors::activecontent {

// What running a file does, by its extension. See docs/active-content.md for the lists.
enum class ExtensionClass {
  kNone,
  kExecutable,  // exe dll scr pif com cpl sys
  kScript,      // js jse vbs vbe wsf wsh ps1 psm1 bat cmd hta
  kShortcut,    // lnk url scf
  kInstaller,   // msi msp msix appx jar
  kDiskImage,   // iso img vhd vhdx
};

// "Executable", "Script", "Shortcut", "Installer", "DiskImage".
std::string_view ExtensionClassName(ExtensionClass cls);

// The last path component of an archive member or attachment name ("a/b/c.txt" → "c.txt").
std::string_view BaseName(std::string_view name);

// The extension of `name`'s base name without the dot, or "" (".bashrc" has none).
std::string_view Extension(std::string_view name);

ExtensionClass ClassifyExtension(std::string_view extension);

// Documents, images and media: what a lure pretends to be.
bool IsDocumentExtension(std::string_view extension);

// "invoice.pdf.exe", "invoice.pdf      .exe", "scan.jpg...scr": a document extension directly
// before (apart from spaces, dots and underscores) a final extension that runs code.
bool HasDoubleExtension(std::string_view name);

// A UTF-8 bidirectional embedding/override/isolate control (U+202A–U+202E, U+2066–U+2069).
bool HasBidiControl(std::string_view name);

// True for the kinds an operating system runs directly (PE, ELF, Mach-O).
bool IsExecutableKind(content::FileKind kind);

// Glob match of `name` against `pattern` ('*' any run, '?' one byte), ignoring ASCII case.
// O(|name| * |pattern|) at worst.
bool GlobMatch(std::string_view pattern, std::string_view name);

}  // namespace bulwark::detectors::activecontent
