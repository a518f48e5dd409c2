#pragma once
// The "mime" unpacker: RFC 5322/2045 messages through GMime, parsed in memory. Accepts
// objects identified as email. Children are the decoded leaf parts (base64,
// quoted-printable, uuencode), each embedded message/rfc822 as one serialized child (the
// engine recurses into it), and uuencoded files found inside text bodies. Unnamed parts
// get names from their type ("body.txt", "body.html", "part-3.pdf"). Malformed,
// encrypted and over-limit content is reported as described in mime_walker.h.

#include "bulwark/engine/registry.h"

namespace bulwark::unpackers {

void RegisterMimeUnpacker(engine::Registry& registry);
engine::UnpackerPtr CreateMimeUnpacker();

}  // namespace bulwark::unpackers
