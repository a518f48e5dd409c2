#include "mail/attachment_strip.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <memory>

#include "crypto/sha256.h"
#include "mime/gmime_support.h"

namespace bulwark::mail {
namespace {

using mime::GObjectPtr;
using mime::InitGMimeOnce;

struct FormatOptionsFree {
  void operator()(GMimeFormatOptions* options) const { g_mime_format_options_free(options); }
};

// The file name a part declares (Content-Disposition filename, else Content-Type name).
std::string DeclaredName(GMimeObject* object) {
  const char* name = nullptr;
  if (GMIME_IS_PART(object)) name = g_mime_part_get_filename(GMIME_PART(object));
  if (name == nullptr) name = g_mime_object_get_content_disposition_parameter(object, "filename");
  if (name == nullptr) name = g_mime_object_get_content_type_parameter(object, "name");
  return name == nullptr ? std::string() : std::string(name);
}

GMimeObject* NoticePart(const std::string& name, std::string_view notice) {
  GMimeTextPart* part = g_mime_text_part_new_with_subtype("plain");
  std::string text = "The attachment \"" + name + "\" was " + std::string(notice) + ".\n";
  g_mime_text_part_set_text(part, text.c_str());
  std::string file_name = name + ".removed.txt";
  g_mime_part_set_filename(GMIME_PART(part), file_name.c_str());
  return GMIME_OBJECT(part);
}

class Stripper {
 public:
  Stripper(const std::vector<std::string>& names, std::string_view notice)
      : names_(names), notice_(notice), found_(names.size(), false) {}

  // Replaces matching leaves below `multipart`, depth first.
  void Walk(GMimeMultipart* multipart, int depth) {
    if (depth > 64) return;
    const int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i) {
      GMimeObject* child = g_mime_multipart_get_part(multipart, i);  // borrowed
      if (GMIME_IS_MULTIPART(child)) {
        Walk(GMIME_MULTIPART(child), depth + 1);
        continue;
      }
      if (std::optional<std::string> name = Match(child)) {
        GObjectPtr<GMimeObject> notice(NoticePart(*name, notice_));
        GObjectPtr<GMimeObject> replaced(g_mime_multipart_replace(multipart, i, notice.get()));
      }
    }
  }

  // The listed name `object` declares, marking it found.
  std::optional<std::string> Match(GMimeObject* object) {
    std::string name = DeclaredName(object);
    if (name.empty()) return std::nullopt;
    auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end()) return std::nullopt;
    found_[static_cast<std::size_t>(it - names_.begin())] = true;
    return name;
  }

  std::string FirstMissing() const {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (!found_[i]) return names_[i];
    }
    return {};
  }
  bool AllFound() const {
    return std::all_of(found_.begin(), found_.end(), [](bool f) { return f; });
  }

 private:
  const std::vector<std::string>& names_;
  std::string_view notice_;
  std::vector<bool> found_;
};

// The message parsed by GMime; null when it cannot be.
GObjectPtr<GMimeMessage> Parse(std::string_view message) {
  InitGMimeOnce();
  GObjectPtr<GMimeStream> input(g_mime_stream_mem_new_with_buffer(message.data(), message.size()));
  GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(input.get()));
  return GObjectPtr<GMimeMessage>(g_mime_parser_construct_message(parser.get(), nullptr));
}

// Appends the SHA-256 of each leaf part's decoded content below `object`.
void HashLeaves(GMimeObject* object, int depth, std::vector<std::string>& out) {
  if (object == nullptr || depth > 64 || out.size() >= 1000) return;
  if (GMIME_IS_MULTIPART(object)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(object);
    const int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i)
      HashLeaves(g_mime_multipart_get_part(multipart, i), depth + 1, out);
    return;
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (inner != nullptr) HashLeaves(g_mime_message_get_mime_part(inner), depth + 1, out);
    return;
  }
  if (!GMIME_IS_PART(object)) return;
  GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(object));  // borrowed
  if (content == nullptr) return;
  GObjectPtr<GMimeStream> decoded(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(content, decoded.get()) < 0) return;
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(decoded.get()));
  std::string_view data =
      bytes == nullptr ? std::string_view()
                       : std::string_view(reinterpret_cast<const char*>(bytes->data), bytes->len);
  out.push_back(crypto::ToHex(crypto::Sha256(data)));
}

}  // namespace

Result<std::vector<std::string>> PartHashes(std::string_view message) {
  GObjectPtr<GMimeMessage> parsed = Parse(message);
  if (parsed == nullptr) return InvalidArgumentError("the message cannot be parsed");
  std::vector<std::string> hashes;
  HashLeaves(g_mime_message_get_mime_part(parsed.get()), 0, hashes);
  return hashes;
}

Result<std::string> StripAttachments(std::string_view message,
                                     const std::vector<std::string>& file_names,
                                     std::string_view notice) {
  GObjectPtr<GMimeMessage> parsed = Parse(message);
  if (parsed == nullptr) return InvalidArgumentError("the message cannot be parsed");

  Stripper stripper(file_names, notice);
  GMimeObject* body = g_mime_message_get_mime_part(parsed.get());  // borrowed
  if (body != nullptr && GMIME_IS_MULTIPART(body)) {
    stripper.Walk(GMIME_MULTIPART(body), 0);
  } else if (body != nullptr) {
    if (std::optional<std::string> name = stripper.Match(body)) {
      GObjectPtr<GMimeObject> notice_part(NoticePart(*name, notice));
      g_mime_message_set_mime_part(parsed.get(), notice_part.get());
    }
  }
  if (!stripper.AllFound()) {
    return NotFoundError("no attachment named \"" + stripper.FirstMissing() + "\" to remove");
  }

  std::unique_ptr<GMimeFormatOptions, FormatOptionsFree> format(g_mime_format_options_new());
  const bool crlf = message.find("\r\n") != std::string_view::npos;
  g_mime_format_options_set_newline_format(
      format.get(), crlf ? GMIME_NEWLINE_FORMAT_DOS : GMIME_NEWLINE_FORMAT_UNIX);
  GObjectPtr<GMimeStream> output(g_mime_stream_mem_new());
  if (g_mime_object_write_to_stream(GMIME_OBJECT(parsed.get()), format.get(), output.get()) < 0) {
    return InternalError("the cleaned message could not be written");
  }
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(output.get()));
  if (bytes == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

}  // namespace bulwark::mail
