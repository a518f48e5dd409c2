// PDF test material, written with qpdf. A separate file because qpdf 11.3's headers do
// not compile as C++20 under clang 14 (see src/unpackers/pdf/CMakeLists.txt).
#include <qpdf/QPDF.hh>
#include <qpdf/QPDFEFStreamObjectHelper.hh>
#include <qpdf/QPDFEmbeddedFileDocumentHelper.hh>
#include <qpdf/QPDFFileSpecObjectHelper.hh>
#include <qpdf/QPDFWriter.hh>

#include "test/support/test_support.h"

namespace bulwark::testing {
namespace {

QPDFObjectHandle AddPage(QPDF& pdf) {
  QPDFObjectHandle page = pdf.makeIndirectObject(QPDFObjectHandle::parse(
      "<< /Type /Page /MediaBox [0 0 612 792] /Resources << >> >>"));
  pdf.addPage(page, true);
  return page;
}

std::string Write(QPDF& pdf) {
  QPDFWriter writer(pdf);
  writer.setOutputMemory();
  writer.write();
  auto buffer = writer.getBufferSharedPointer();
  return std::string(reinterpret_cast<const char*>(buffer->getBuffer()), buffer->getSize());
}

}  // namespace

std::string MakePdfWithAttachments(const std::vector<Member>& attachments) {
  QPDF pdf;
  pdf.emptyPDF();
  AddPage(pdf);
  QPDFEmbeddedFileDocumentHelper embedded(pdf);
  for (const auto& a : attachments) {
    auto stream = QPDFEFStreamObjectHelper::createEFStream(pdf, a.bytes);
    embedded.replaceEmbeddedFile(a.name, QPDFFileSpecObjectHelper::createFileSpec(pdf, a.name, stream));
  }
  return Write(pdf);
}

std::string MakePdfWithOpenActionScript(const std::string& script) {
  QPDF pdf;
  pdf.emptyPDF();
  AddPage(pdf);
  QPDFObjectHandle action = QPDFObjectHandle::newDictionary();
  action.replaceKey("/S", QPDFObjectHandle::newName("/JavaScript"));
  action.replaceKey("/JS", QPDFObjectHandle::newString(script));
  pdf.getRoot().replaceKey("/OpenAction", pdf.makeIndirectObject(action));
  return Write(pdf);
}

}  // namespace bulwark::testing
