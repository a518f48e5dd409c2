#pragma once
// Base64 bodies decoded as GMime decodes them, several times faster. GMime's decoder takes
// one byte per step (about 300 MB/s here, a tenth of a mail scan's time); no Debian 12
// library decodes base64 faster with GMime's lenient rules (OpenSSL's EVP_DecodeBlock is
// slower still and strict; docs/BENCHMARKS.md, "Mail corpus").

#include <string>
#include <string_view>

namespace bulwark::mime {

// Decodes `encoded` exactly as g_mime_encoding_base64_decode_step() does when handed all
// of it in one step: bytes outside the alphabet (line breaks, white space, junk) are
// skipped, and padding is read as GMime reads it. Whole quartets are decoded four bytes at
// a time up to the first '=' or the last few bytes; the rest goes through GMime itself, so
// its rules for padding and for the end stay its own.
std::string DecodeBase64(std::string_view encoded);

}  // namespace bulwark::mime
