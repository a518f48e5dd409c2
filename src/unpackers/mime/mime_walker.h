#pragma once
// The GMime walk behind the "mime" unpacker. The unpacker hands each leaf to a ChildSink,
// which only takes a name and bytes; this lower level also reports the declared content
// type and file name of each leaf, which the conformance tests compare with other parsers.

#include <optional>
#include <string>
#include <string_view>

#include "bulwark/common/status.h"
#include "bulwark/content/blob.h"
#include "bulwark/engine/finding.h"
#include "bulwark/engine/scan_context.h"
#include "bulwark/engine/unpacker.h"
#include "mime/parsed_message.h"

namespace bulwark::unpackers {

// Multipart containers nested deeper than this are reported and not descended into.
inline constexpr int kMaxMultipartDepth = 64;

// One object found in a message.
struct MimeLeaf {
  enum class Origin {
    kPart,               // a leaf MIME part, decoded; or a message/rfc822 part, serialized
    kEmbeddedUuencode,   // a "begin <mode> <name>" … "end" block inside a text/plain body
    kUnparsedMultipart,  // the raw body of a multipart that could not be split into parts
  };

  std::string name;          // label for the child: the decoded file name, or one made up
                             // from the content type ("body.txt", "part-3.pdf")
  std::string filename;      // the file name the message declares, decoded; "" when none
  std::string content_type;  // lower-case "type/subtype" as declared (or defaulted)
  Origin origin = Origin::kPart;
  // For a part, where its body stands in the message, still encoded; none when the bytes
  // do not come from the message as given (a re-parsed body, an embedded message).
  std::optional<engine::ByteRange> stored;
};

// Receives the leaves of a message in document order.
class MimeLeafSink {
 public:
  virtual ~MimeLeafSink() = default;
  // Takes ownership of the leaf's bytes. Any non-OK status stops the walk (a scan budget
  // is spent or time is up); the walk then returns OK.
  virtual Status Add(MimeLeaf leaf, content::Blob data) = 0;
};

// Parses `message` (RFC 5322 bytes) in memory with GMime and hands every leaf to `leaves`:
// the decoded content of each leaf part (base64, quoted-printable and uuencode undone),
// each embedded message/rfc822 as one serialized leaf (not descended into), and each
// uuencoded block found inside a text/plain body as an extra leaf.
//
// Content problems are findings, never errors, and never lose content:
//  - kMalformed: GMime cannot parse the message (uuencoded blocks in the raw bytes are
//    still extracted); a multipart without a boundary parameter, or whose boundary never
//    occurs (its body is split on a boundary guessed from its first "--" line, as lenient
//    mail clients do, or else emitted whole as text); a base64 body that decodes to
//    nothing (emitted undecoded).
//  - kEncrypted: S/MIME enveloped data, the payload of a multipart/encrypted, inline PGP
//    messages. The encrypted part is still emitted.
//  - kObjectSizeLimit: a leaf over ctx.limits().max_object_bytes, which is not emitted.
//  - kDepthLimit: multipart nesting deeper than kMaxMultipartDepth, not descended into.
//  - kTimeLimit: the deadline passed; the walk stops.
// Finding paths name the leaf ({name}), relative to the message; empty for the message.
//
// Returns OK, also when `leaves` stopped the walk.
// Thread safety: may run on many threads at once on separate messages.
Status WalkMimeMessage(std::string_view message, engine::ScanContext& ctx, MimeLeafSink& leaves,
                       engine::FindingSink& findings);

// The same walk over a message already parsed (which the caller may keep for other uses).
Status WalkParsedMessage(const mime::ParsedMessage& message, engine::ScanContext& ctx,
                         MimeLeafSink& leaves, engine::FindingSink& findings);

}  // namespace bulwark::unpackers
