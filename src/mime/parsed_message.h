#pragma once
// One RFC 5322 message as GMime parses it, read where its bytes lie instead of copied, with
// the loose parser options mail clients use. The MIME unpacker builds it once per mail and
// keeps it among the scan's root forms (bulwark/engine/root_forms.h); the phishing
// assessor reads the same parse instead of parsing the message again.

#include <gmime/gmime.h>

#include <memory>
#include <string_view>

#include "mime/gmime_support.h"

namespace bulwark::mime {

class ParsedMessage {
 public:
  // Parses `bytes`, which must outlive the result: the parts' contents are views into them.
  // Never null; message() is null when GMime cannot read the message's header.
  static std::shared_ptr<const ParsedMessage> Parse(std::string_view bytes);

  ~ParsedMessage();
  ParsedMessage(const ParsedMessage&) = delete;
  ParsedMessage& operator=(const ParsedMessage&) = delete;

  std::string_view bytes() const { return bytes_; }
  // The parsed message, or null. GMime's API takes non-const pointers; readers must not
  // change the message.
  GMimeMessage* message() const { return message_.get(); }
  // The options it was parsed with, for parsing parts of it again the same way.
  GMimeParserOptions* options() const { return options_; }
  // The buffer GMime reads: a part's content stream over the same buffer stands in the
  // message as given (see GMimeStreamMem), its offsets are offsets into bytes().
  const GByteArray* buffer() const { return buffer_; }

 private:
  explicit ParsedMessage(std::string_view bytes);

  std::string_view bytes_;
  GByteArray* buffer_;  // over bytes_, not owning them; released without them
  GMimeParserOptions* options_;
  GObjectPtr<GMimeStream> stream_;
  GObjectPtr<GMimeMessage> message_;
};

}  // namespace bulwark::mime
