#include "unpackers/mime/mime_walker.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bulwark/content/object.h"
#include "mime/base64.h"
#include "mime/gmime_support.h"

namespace bulwark::unpackers {
namespace {

using engine::Finding;
using engine::UnscannableReason;

using mime::GCharPtr;
using mime::GObjectPtr;

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool EqualsIgnoreCase(const char* text, std::string_view expected) {
  if (text == nullptr) return false;
  return Lower(text) == expected;
}

bool HasNonSpace(std::string_view bytes) {
  return std::any_of(bytes.begin(), bytes.end(), [](unsigned char c) { return !std::isspace(c); });
}

std::string StreamBytes(GMimeStream* memory_stream) {
  GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(memory_stream));
  if (array == nullptr || array->len == 0) return {};
  return std::string(reinterpret_cast<const char*>(array->data), array->len);
}

// The content of a part with its transfer encoding undone (GMime's decoding filters).
std::string DecodedContent(GMimeDataWrapper* wrapper) {
  GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
  // On a write error, whatever reached the stream before it is still worth scanning.
  (void)g_mime_data_wrapper_write_to_stream(wrapper, out.get());
  return StreamBytes(out.get());
}

// The content of a part as it stands in the message, still encoded.
std::string RawContent(GMimeDataWrapper* wrapper) {
  GMimeStream* source = g_mime_data_wrapper_get_stream(wrapper);  // borrowed
  if (source == nullptr) return {};
  GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_stream_reset(source);
  g_mime_stream_write_to_stream(source, out.get());
  g_mime_stream_reset(source);
  return StreamBytes(out.get());
}

// Where the content of `wrapper` stands in the message, still encoded. GMime's parser
// keeps each body as a substream of the message's memory stream: a stream sharing its
// buffer, with bounds that are offsets into it. A body GMime copied (a re-parsed one) has
// a buffer of its own and no place in the message.
std::optional<engine::ByteRange> StoredRange(GMimeDataWrapper* wrapper, const GByteArray* message) {
  if (wrapper == nullptr || message == nullptr) return std::nullopt;
  GMimeStream* stream = g_mime_data_wrapper_get_stream(wrapper);  // borrowed
  if (stream == nullptr || !GMIME_IS_STREAM_MEM(stream) ||
      GMIME_STREAM_MEM(stream)->buffer != message) {
    return std::nullopt;
  }
  const gint64 length = message->len;
  const gint64 begin = stream->bound_start;
  const gint64 end = stream->bound_end < 0 ? length : stream->bound_end;
  if (begin < 0 || end < begin || end > length) return std::nullopt;
  return engine::ByteRange{static_cast<std::size_t>(begin), static_cast<std::size_t>(end)};
}

std::string ContentTypeOf(GMimeObject* object) {
  GMimeContentType* type = g_mime_object_get_content_type(object);  // borrowed
  if (type == nullptr) return "application/octet-stream";
  GCharPtr mime(g_mime_content_type_get_mime_type(type));
  return mime != nullptr ? Lower(mime.get()) : "application/octet-stream";
}

// The declared file name (Content-Disposition filename, else Content-Type name), with
// RFC 2231 and RFC 2047 encodings already undone by GMime's header parser.
std::string DeclaredFilename(GMimeObject* object) {
  const char* name = nullptr;
  if (GMIME_IS_PART(object)) {
    name = g_mime_part_get_filename(GMIME_PART(object));
  } else {
    name = g_mime_object_get_content_disposition_parameter(object, "filename");
    if (name == nullptr) name = g_mime_object_get_content_type_parameter(object, "name");
  }
  if (name == nullptr) return {};
  std::string result(name);
  // Labels only; trim surrounding space and drop line breaks a folded header left behind.
  std::erase_if(result, [](char c) { return c == '\r' || c == '\n'; });
  const auto first = result.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  result.erase(0, first);
  result.erase(result.find_last_not_of(" \t") + 1);
  return result;
}

std::string_view ExtensionFor(std::string_view content_type) {
  struct Entry {
    std::string_view type;
    std::string_view extension;
  };
  static constexpr Entry kTable[] = {
      {"text/plain", "txt"},
      {"text/html", "html"},
      {"text/calendar", "ics"},
      {"text/csv", "csv"},
      {"text/xml", "xml"},
      {"text/rtf", "rtf"},
      {"text/x-vcard", "vcf"},
      {"text/vcard", "vcf"},
      {"message/rfc822", "eml"},
      {"message/global", "eml"},
      {"message/news", "eml"},
      {"message/rfc2822", "eml"},
      {"message/delivery-status", "txt"},
      {"application/pdf", "pdf"},
      {"application/zip", "zip"},
      {"application/xml", "xml"},
      {"application/json", "json"},
      {"application/rtf", "rtf"},
      {"application/msword", "doc"},
      {"application/ms-tnef", "dat"},
      {"application/vnd.ms-tnef", "dat"},
      {"application/pkcs7-mime", "p7m"},
      {"application/x-pkcs7-mime", "p7m"},
      {"application/pkcs7-signature", "p7s"},
      {"application/x-pkcs7-signature", "p7s"},
      {"application/pgp-signature", "asc"},
      {"application/pgp-encrypted", "asc"},
      {"application/pgp-keys", "asc"},
      {"application/javascript", "js"},
      {"image/png", "png"},
      {"image/jpeg", "jpg"},
      {"image/gif", "gif"},
      {"image/bmp", "bmp"},
      {"image/svg+xml", "svg"},
      {"image/tiff", "tif"},
  };
  for (const Entry& entry : kTable) {
    if (entry.type == content_type) return entry.extension;
  }
  if (content_type.starts_with("text/")) return "txt";
  return "bin";
}

// The begin line of a uuencoded block: "begin <3-4 octal digits> <name>".
bool ParseUuBegin(std::string_view line, std::string& name) {
  constexpr std::string_view kBegin = "begin ";
  if (!line.starts_with(kBegin)) return false;
  line.remove_prefix(kBegin.size());
  std::size_t digits = 0;
  while (digits < line.size() && line[digits] >= '0' && line[digits] <= '7') ++digits;
  if (digits < 3 || digits > 4 || digits >= line.size() || line[digits] != ' ') return false;
  line.remove_prefix(digits + 1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  name = std::string(line);
  return true;
}

// Decodes one uuencoded line with GMime. Returns false when the line is not uuencoded
// data or is the zero-length line that closes the data.
bool DecodeUuLine(std::string_view line, std::string& out) {
  if (line.empty()) return false;
  for (unsigned char c : line) {
    if (c < 0x20 || c > 0x60) return false;
  }
  const int length = (line[0] - 0x20) & 0x3f;
  if (length == 0) return false;
  // Feed only the characters the length octet covers: GMime reads any further character
  // as the length octet of another line.
  const std::size_t needed = 1 + static_cast<std::size_t>((length + 2) / 3) * 4;
  line = line.substr(0, std::min(line.size(), needed));
  unsigned char buffer[128];
  int state = GMIME_UUDECODE_STATE_INIT;
  guint32 save = 0;
  const std::size_t n = g_mime_encoding_uudecode_step(
      reinterpret_cast<const unsigned char*>(line.data()), line.size(), buffer, &state, &save);
  out.append(reinterpret_cast<const char*>(buffer), n);
  return true;
}

struct UuBlock {
  std::string name;
  std::string bytes;
};

// Finds "begin … end" uuencoded blocks in a text body. A block without its "end" line
// (truncated) is still returned with the lines that could be decoded.
std::vector<UuBlock> FindUuencodedBlocks(std::string_view text) {
  std::vector<UuBlock> blocks;
  UuBlock* open = nullptr;
  bool has_data = false;
  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(position, end - position);
    position = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    if (open == nullptr) {
      std::string name;
      if (ParseUuBegin(line, name)) {
        blocks.push_back(UuBlock{std::move(name), {}});
        open = &blocks.back();
        has_data = false;
      }
      continue;
    }
    if (DecodeUuLine(line, open->bytes)) {
      has_data = true;
      continue;
    }
    // "end", the zero-length line before it, or text that is not uuencoded closes the
    // block; a zero-length line is followed by "end", which is skipped as text.
    if (!has_data && open->bytes.empty()) blocks.pop_back();
    open = nullptr;
  }
  if (open != nullptr && !has_data) blocks.pop_back();
  return blocks;
}

Finding LeafFinding(UnscannableReason reason, const std::string& name, std::string detail) {
  Finding finding = Finding::Unscannable("mime", reason, std::move(detail));
  if (!name.empty()) finding.path = content::ObjectPath({name});
  return finding;
}

class Walker {
 public:
  // `message`: the buffer of the stream the message was parsed from, which the parts'
  // bodies point into (null when there is none).
  Walker(GMimeParserOptions* options, const GByteArray* message, engine::ScanContext& ctx,
         MimeLeafSink& leaves, engine::FindingSink& findings)
      : options_(options), message_(message), ctx_(ctx), leaves_(leaves), findings_(findings) {}

  // Walks `object` and everything below it. Returns false once the walk must stop.
  bool Walk(GMimeObject* object, int multipart_depth, bool encrypted) {
    if (object == nullptr) return true;
    if (GMIME_IS_MULTIPART(object)) {
      return WalkMultipart(GMIME_MULTIPART(object), multipart_depth + 1, encrypted);
    }
    if (GMIME_IS_MESSAGE_PART(object)) return EmitMessagePart(GMIME_MESSAGE_PART(object));
    if (GMIME_IS_PART(object)) return EmitPart(GMIME_PART(object), encrypted);
    return true;
  }

  // Emits the blocks FindUuencodedBlocks() found. Returns false once the walk must stop.
  bool EmitUuencodedBlocks(std::vector<UuBlock> blocks) {
    for (UuBlock& block : blocks) {
      MimeLeaf embedded;
      embedded.filename = block.name;
      embedded.content_type = "application/octet-stream";
      embedded.origin = MimeLeaf::Origin::kEmbeddedUuencode;
      embedded.name = block.name.empty() ? MadeUpName("", embedded.content_type) : block.name;
      if (!Emit(std::move(embedded), std::move(block.bytes))) return false;
    }
    return true;
  }

 private:
  bool WalkMultipart(GMimeMultipart* multipart, int depth, bool encrypted) {
    GMimeObject* object = GMIME_OBJECT(multipart);
    const std::string type = ContentTypeOf(object);
    if (depth > kMaxMultipartDepth) {
      findings_.Add(LeafFinding(UnscannableReason::kDepthLimit, "",
                                "multipart nesting deeper than " +
                                    std::to_string(kMaxMultipartDepth) + " levels (" + type +
                                    "); the parts below were not unpacked"));
      return true;
    }
    const int count = g_mime_multipart_get_count(multipart);
    const char* prologue = g_mime_multipart_get_prologue(multipart);
    const bool unsplit = count == 0 && prologue != nullptr && HasNonSpace(prologue);
    if (g_mime_object_get_content_type_parameter(object, "boundary") == nullptr) {
      findings_.Add(
          LeafFinding(UnscannableReason::kMalformed, "", type + " without a boundary parameter"));
    } else if (unsplit) {
      findings_.Add(LeafFinding(UnscannableReason::kMalformed, "",
                                type + " whose boundary never occurs: it has no parts"));
    }
    // GMime then reads the whole body into the prologue. Mail clients that guess the
    // boundary from the first "--" line would show parts: split it the same way.
    if (unsplit && recoveries_ < kMaxRecoveries) {
      ++recoveries_;
      GObjectPtr<GMimeObject> recovered = ParseWithGuessedBoundary(type, prologue);
      if (recovered != nullptr && GMIME_IS_MULTIPART(recovered.get()) &&
          g_mime_multipart_get_count(GMIME_MULTIPART(recovered.get())) > 0) {
        return WalkMultipart(GMIME_MULTIPART(recovered.get()), depth, encrypted);
      }
    }
    if (unsplit) {
      // Hand the unsplit body on as text so nothing is lost.
      MimeLeaf leaf;
      leaf.content_type = "text/plain";
      leaf.origin = MimeLeaf::Origin::kUnparsedMultipart;
      leaf.name = MadeUpName("", leaf.content_type);
      if (!Emit(std::move(leaf), std::string(prologue))) return false;
    }
    const bool is_encrypted =
        encrypted || GMIME_IS_MULTIPART_ENCRYPTED(object) || type == "multipart/encrypted";
    if (is_encrypted && count == 0) {
      findings_.Add(LeafFinding(UnscannableReason::kEncrypted, "", "empty " + type));
    }
    for (int i = 0; i < count; ++i) {
      if (!Walk(g_mime_multipart_get_part(multipart, i), depth, is_encrypted)) return false;
    }
    return true;
  }

  // Parses `body` as a `type` multipart whose boundary is taken from its first "--" line.
  // Null when there is no such line or GMime cannot parse the result.
  GObjectPtr<GMimeObject> ParseWithGuessedBoundary(const std::string& type, std::string_view body) {
    std::string_view boundary;
    std::size_t position = 0;
    while (position < body.size() && boundary.empty()) {
      std::size_t end = body.find('\n', position);
      if (end == std::string_view::npos) end = body.size();
      std::string_view line = body.substr(position, end - position);
      position = end + 1;
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
        line.remove_suffix(1);
      }
      if (line.size() > 2 && line.starts_with("--")) boundary = line.substr(2);
    }
    if (boundary.empty() || boundary.size() > 200 ||
        boundary.find_first_of("\"\\") != std::string_view::npos) {
      return nullptr;
    }
    std::string text = "Content-Type: " + type + "; boundary=\"" + std::string(boundary) +
                       "\"\n\n" + std::string(body);
    GObjectPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
    GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    return GObjectPtr<GMimeObject>(g_mime_parser_construct_part(parser.get(), options_));
  }

  bool EmitMessagePart(GMimeMessagePart* part) {
    GMimeObject* object = GMIME_OBJECT(part);
    MimeLeaf leaf;
    leaf.filename = DeclaredFilename(object);
    leaf.content_type = ContentTypeOf(object);
    leaf.name = leaf.filename.empty() ? MadeUpName("attached-message.eml", leaf.content_type)
                                      : leaf.filename;
    std::string bytes;
    GMimeMessage* message = g_mime_message_part_get_message(part);  // borrowed
    if (message != nullptr) {
      GObjectPtr<GMimeStream> out(g_mime_stream_mem_new());
      g_mime_object_write_to_stream(GMIME_OBJECT(message), nullptr, out.get());
      bytes = StreamBytes(out.get());
    }
    return Emit(std::move(leaf), std::move(bytes));
  }

  bool EmitPart(GMimePart* part, bool in_encrypted) {
    GMimeObject* object = GMIME_OBJECT(part);
    MimeLeaf leaf;
    leaf.filename = DeclaredFilename(object);
    leaf.content_type = ContentTypeOf(object);
    std::string preferred;
    if (leaf.content_type == "text/plain") preferred = "body.txt";
    if (leaf.content_type == "text/html") preferred = "body.html";
    if (leaf.content_type == "message/rfc822") preferred = "attached-message.eml";
    leaf.name = leaf.filename.empty() ? MadeUpName(preferred, leaf.content_type) : leaf.filename;

    const GMimeContentEncoding encoding = g_mime_part_get_content_encoding(part);
    std::string bytes;
    GMimeDataWrapper* wrapper = g_mime_part_get_content(part);  // borrowed, may be null
    if (wrapper != nullptr) {
      leaf.stored = StoredRange(wrapper, message_);
      // A base64 body that stands in the message is decoded where it lies, by the faster
      // decoder with GMime's rules; anything else through GMime's own filters.
      bytes =
          leaf.stored && g_mime_data_wrapper_get_encoding(wrapper) == GMIME_CONTENT_ENCODING_BASE64
              ? mime::DecodeBase64(StoredBytes(*leaf.stored))
              : DecodedContent(wrapper);
      if (bytes.empty() && encoding == GMIME_CONTENT_ENCODING_BASE64) {
        std::string raw = RawContent(wrapper);
        if (HasNonSpace(raw)) {
          findings_.Add(LeafFinding(UnscannableReason::kMalformed, leaf.name,
                                    "base64 body of " + std::to_string(raw.size()) +
                                        " bytes decodes to nothing; scanning it undecoded"));
          bytes = std::move(raw);
        }
      }
    }

    if (IsEncrypted(part, leaf.content_type, in_encrypted)) {
      findings_.Add(LeafFinding(UnscannableReason::kEncrypted, leaf.name,
                                "encrypted " + leaf.content_type + " part"));
    }

    const bool scan_for_uuencode =
        leaf.content_type == "text/plain" && encoding != GMIME_CONTENT_ENCODING_UUENCODE;
    std::vector<UuBlock> blocks;
    if (scan_for_uuencode) blocks = FindUuencodedBlocks(bytes);
    if (!Emit(std::move(leaf), std::move(bytes))) return false;
    return EmitUuencodedBlocks(std::move(blocks));
  }

  // The bytes of the message a stored range covers.
  std::string_view StoredBytes(engine::ByteRange range) const {
    return std::string_view(reinterpret_cast<const char*>(message_->data) + range.begin,
                            range.end - range.begin);
  }

  static bool IsEncrypted(GMimePart* part, const std::string& content_type, bool in_encrypted) {
    if (in_encrypted) return content_type != "application/pgp-encrypted";  // the control part
    if (content_type == "application/pkcs7-mime" || content_type == "application/x-pkcs7-mime") {
      const char* smime_type =
          g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "smime-type");
      return EqualsIgnoreCase(smime_type, "enveloped-data") ||
             EqualsIgnoreCase(smime_type, "authenveloped-data");
    }
    // Inline PGP is armored text; GMime finds it by reading the whole part, so only text
    // parts are asked (for an attachment that read cost a tenth of a mail's scan).
    if (content_type.rfind("text/", 0) != 0) return false;
    return g_mime_part_get_openpgp_data(part) == GMIME_OPENPGP_DATA_ENCRYPTED;
  }

  // `preferred` the first time it is asked for, else "part-<n>.<extension>".
  std::string MadeUpName(const std::string& preferred, std::string_view content_type) {
    const int index = leaves_seen_ + 1;
    if (!preferred.empty() && made_up_.insert(preferred).second) return preferred;
    std::string name =
        "part-" + std::to_string(index) + "." + std::string(ExtensionFor(content_type));
    made_up_.insert(name);
    return name;
  }

  // Hands one leaf on, unless it is over the size limit. Returns false once the walk must
  // stop (deadline, or the sink refused).
  bool Emit(MimeLeaf leaf, std::string bytes) {
    ++leaves_seen_;
    if (ctx_.Expired()) {
      findings_.Add(LeafFinding(UnscannableReason::kTimeLimit, "",
                                "scan time limit reached while unpacking the message"));
      return false;
    }
    const std::uint64_t limit = ctx_.limits().max_object_bytes;
    if (bytes.size() > limit) {
      findings_.Add(LeafFinding(UnscannableReason::kObjectSizeLimit, leaf.name,
                                "part of " + std::to_string(bytes.size()) +
                                    " bytes is larger than the limit of " + std::to_string(limit) +
                                    " bytes"));
      return true;
    }
    return leaves_.Add(std::move(leaf), content::Blob::Own(std::move(bytes))).ok();
  }

  GMimeParserOptions* options_;  // borrowed, for parsing recovered multiparts
  const GByteArray* message_;    // borrowed
  engine::ScanContext& ctx_;
  MimeLeafSink& leaves_;
  engine::FindingSink& findings_;
  int leaves_seen_ = 0;
  // Each recovery re-parses a copy of a body: bounded so nesting cannot multiply memory.
  static constexpr int kMaxRecoveries = 4;
  int recoveries_ = 0;
  std::set<std::string> made_up_;  // names already made up, so each is used once
};

}  // namespace

Status WalkMimeMessage(std::string_view message, engine::ScanContext& ctx, MimeLeafSink& leaves,
                       engine::FindingSink& findings) {
  return WalkParsedMessage(*mime::ParsedMessage::Parse(message), ctx, leaves, findings);
}

Status WalkParsedMessage(const mime::ParsedMessage& parsed, engine::ScanContext& ctx,
                         MimeLeafSink& leaves, engine::FindingSink& findings) {
  const std::string_view message = parsed.bytes();
  Walker walker(parsed.options(), parsed.buffer(), ctx, leaves, findings);
  if (parsed.message() == nullptr) {
    if (!HasNonSpace(message)) return OkStatus();  // nothing to scan, nothing hidden
    findings.Add(LeafFinding(UnscannableReason::kMalformed, "",
                             "GMime could not parse the message headers"));
    // The bytes themselves are scanned as the message; what a text scan can still
    // recover from them are uuencoded files.
    walker.EmitUuencodedBlocks(FindUuencodedBlocks(message));
    return OkStatus();
  }
  GMimeObject* body = g_mime_message_get_mime_part(parsed.message());  // borrowed
  if (body == nullptr) {
    if (HasNonSpace(message)) {
      findings.Add(LeafFinding(UnscannableReason::kMalformed, "",
                               "message has content but GMime found no MIME part in it"));
    }
    return OkStatus();
  }
  walker.Walk(body, 0, false);
  return OkStatus();
}

}  // namespace bulwark::unpackers
