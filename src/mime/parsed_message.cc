#include "mime/parsed_message.h"

#include <mutex>

namespace bulwark::mime {

void InitGMimeOnce() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

std::shared_ptr<const ParsedMessage> ParsedMessage::Parse(std::string_view bytes) {
  return std::shared_ptr<const ParsedMessage>(new ParsedMessage(bytes));
}

ParsedMessage::ParsedMessage(std::string_view bytes)
    : bytes_(bytes),
      // GMime only reads a parser's stream, so the array may borrow the bytes.
      buffer_(g_byte_array_new_take(reinterpret_cast<guint8*>(const_cast<char*>(bytes.data())),
                                    bytes.size())),
      options_(nullptr) {
  InitGMimeOnce();
  options_ = g_mime_parser_options_new();
  g_mime_parser_options_set_rfc2047_compliance_mode(options_, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(options_, GMIME_RFC_COMPLIANCE_LOOSE);
  stream_.reset(g_mime_stream_mem_new_with_byte_array(buffer_));
  g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream_.get()), FALSE);
  GObjectPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream_.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  message_.reset(g_mime_parser_construct_message(parser.get(), options_));
}

ParsedMessage::~ParsedMessage() {
  message_.reset();  // its parts' streams hold the stream, which reads the array
  stream_.reset();
  g_mime_parser_options_free(options_);
  g_byte_array_free(buffer_, FALSE);
}

}  // namespace bulwark::mime
