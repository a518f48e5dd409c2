#include "unpackers/pdf/pdf_unpacker.h"

#include <qpdf/Pipeline.hh>
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFEmbeddedFileDocumentHelper.hh>
#include <qpdf/QPDFExc.hh>
#include <qpdf/QPDFFileSpecObjectHelper.hh>
#include <qpdf/QPDFPageDocumentHelper.hh>

#include <exception>
#include <set>
#include <string>

namespace bulwark::unpackers {
namespace {

using engine::Finding;
using engine::UnscannableReason;

// Thrown by CappedBuffer to abandon a stream that decodes past the object size limit:
// qpdf is a C++ library that reports through exceptions, and a throwing pipeline is the
// only way to stop it mid-stream. Caught in this file; never escapes Unpack().
struct StreamTooLarge {};

// Collects a decoded stream, refusing to grow past `limit` bytes (flate bombs).
class CappedBuffer : public Pipeline {
 public:
  explicit CappedBuffer(std::uint64_t limit) : Pipeline("bulwark-capped-buffer", nullptr), limit_(limit) {}
  void write(unsigned char const* data, size_t len) override {
    if (bytes_.size() + len > limit_) throw StreamTooLarge{};
    bytes_.append(reinterpret_cast<const char*>(data), len);
  }
  void finish() override {}
  std::string Take() { return std::move(bytes_); }

 private:
  std::uint64_t limit_;
  std::string bytes_;
};

Finding PdfFinding(UnscannableReason reason, const std::string& member, std::string detail) {
  Finding finding = Finding::Unscannable("pdf", reason, std::move(detail));
  if (!member.empty()) finding.path = content::ObjectPath({member});
  return finding;
}

class PdfUnpacker : public engine::Unpacker {
 public:
  std::string_view Name() const override { return "pdf"; }
  bool Accepts(const content::ObjectInfo& object) const override {
    return object.type.kind == content::FileKind::kPdf;
  }

  Status Unpack(const content::Object& object, engine::ScanContext& ctx,
                engine::ChildSink& children, engine::FindingSink& findings) const override {
    QPDF pdf;
    pdf.setSuppressWarnings(true);
    pdf.setAttemptRecovery(true);
    try {
      pdf.processMemoryFile(object.info.name.empty() ? "pdf" : object.info.name.c_str(),
                            object.bytes().data(), object.bytes().size());
    } catch (const QPDFExc& e) {
      bool encrypted = e.getErrorCode() == qpdf_e_password;
      findings.Add(PdfFinding(encrypted ? UnscannableReason::kEncrypted : UnscannableReason::kMalformed,
                              "", encrypted ? "PDF needs a password to open" : std::string("malformed PDF: ") + e.what()));
      return OkStatus();
    } catch (const std::exception& e) {
      findings.Add(PdfFinding(UnscannableReason::kMalformed, "", std::string("malformed PDF: ") + e.what()));
      return OkStatus();
    }

    std::set<QPDFObjGen> seen;  // the same file spec may be named twice
    std::vector<QPDFFileSpecObjectHelper> specs;
    try {
      QPDFEmbeddedFileDocumentHelper embedded(pdf);
      for (auto& [key, spec] : embedded.getEmbeddedFiles()) specs.push_back(*spec);
      // File attachment annotations carry embedded files outside the name tree.
      for (auto& page : QPDFPageDocumentHelper(pdf).getAllPages()) {
        for (auto& annotation : page.getAnnotations("/FileAttachment")) {
          QPDFObjectHandle fs = annotation.getObjectHandle().getKey("/FS");
          if (fs.isDictionary()) specs.emplace_back(fs);
        }
      }
    } catch (const std::exception& e) {
      findings.Add(PdfFinding(UnscannableReason::kMalformed, "",
                              std::string("cannot read the PDF's embedded files: ") + e.what()));
    }

    std::size_t index = 0;
    for (auto& spec : specs) {
      ++index;
      if (ctx.Expired()) {
        findings.Add(PdfFinding(UnscannableReason::kTimeLimit, "", "scan time limit reached"));
        return OkStatus();
      }
      std::string name;
      std::string bytes;
      try {
        QPDFObjectHandle handle = spec.getObjectHandle();
        if (handle.isIndirect() && !seen.insert(handle.getObjGen()).second) continue;
        name = spec.getFilename();
        if (name.empty()) name = "embedded-" + std::to_string(index);
        QPDFObjectHandle stream = spec.getEmbeddedFileStream();
        if (!stream.isStream()) continue;
        CappedBuffer buffer(ctx.limits().max_object_bytes);
        bool filtered = false;
        if (!stream.pipeStreamData(&buffer, &filtered, 0, qpdf_dl_all, true)) {
          findings.Add(PdfFinding(UnscannableReason::kMalformed, name, "cannot decode embedded file"));
          continue;
        }
        bytes = buffer.Take();
      } catch (const StreamTooLarge&) {
        findings.Add(PdfFinding(UnscannableReason::kObjectSizeLimit, name,
                                "embedded file larger than the limit of " +
                                    std::to_string(ctx.limits().max_object_bytes) + " bytes"));
        continue;
      } catch (const std::exception& e) {
        findings.Add(PdfFinding(UnscannableReason::kMalformed, name,
                                std::string("cannot read embedded file: ") + e.what()));
        continue;
      }
      if (!children.Add(std::move(name), content::Blob::Own(std::move(bytes))).ok()) return OkStatus();
    }
    EmitJavaScript(pdf, ctx, children, findings);
    return OkStatus();
  }

 private:
  static constexpr std::size_t kMaxScripts = 256;

  // JavaScript actions (/JS in any action dictionary: document open, page and annotation
  // actions, the /JavaScript name tree) become "javascript-N.js" children, so rules see
  // the script text that stream compression and string escapes hide in the raw file.
  static void EmitJavaScript(QPDF& pdf, engine::ScanContext& ctx, engine::ChildSink& children,
                             engine::FindingSink& findings) {
    std::vector<std::string> scripts;
    try {
      for (auto& object : pdf.getAllObjects()) {
        CollectScripts(object, ctx.limits().max_object_bytes, 0, scripts);
        if (scripts.size() >= kMaxScripts || ctx.Expired()) break;
      }
    } catch (const StreamTooLarge&) {
      findings.Add(PdfFinding(UnscannableReason::kObjectSizeLimit, "",
                              "JavaScript larger than the object size limit"));
    } catch (const std::exception& e) {
      findings.Add(PdfFinding(UnscannableReason::kMalformed, "",
                              std::string("cannot read the PDF's JavaScript: ") + e.what()));
    }
    std::size_t index = 0;
    for (auto& script : scripts) {
      if (!children.Add("javascript-" + std::to_string(++index) + ".js",
                        content::Blob::Own(std::move(script)))
               .ok()) {
        return;
      }
    }
  }

  // Depth-bounded walk of direct objects inside `object` for /JS entries.
  static void CollectScripts(QPDFObjectHandle object, std::uint64_t limit, int depth,
                             std::vector<std::string>& scripts) {
    if (depth > 8 || scripts.size() >= kMaxScripts) return;
    if (object.isArray()) {
      for (auto& item : object.getArrayAsVector()) {
        if (!item.isIndirect()) CollectScripts(item, limit, depth + 1, scripts);
      }
      return;
    }
    QPDFObjectHandle dict = object.isStream() ? object.getDict() : object;
    if (!dict.isDictionary()) return;
    for (const auto& key : dict.getKeys()) {
      QPDFObjectHandle value = dict.getKey(key);
      if (key == "/JS") {
        if (value.isString()) {
          scripts.push_back(value.getUTF8Value());
        } else if (value.isStream()) {
          CappedBuffer buffer(limit);
          bool filtered = false;
          if (value.pipeStreamData(&buffer, &filtered, 0, qpdf_dl_all, true)) {
            scripts.push_back(buffer.Take());
          }
        }
      } else if (!value.isIndirect()) {
        CollectScripts(value, limit, depth + 1, scripts);
      }
    }
  }
};

}  // namespace

engine::UnpackerPtr CreatePdfUnpacker() { return std::make_unique<PdfUnpacker>(); }

void RegisterPdfUnpacker(engine::Registry& registry) { registry.AddUnpacker(CreatePdfUnpacker()); }

}  // namespace bulwark::unpackers
