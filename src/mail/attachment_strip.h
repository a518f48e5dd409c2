#pragma once
// Removes attachments from a message for the "delete" action of the mail front-ends: each
// leaf part whose declared file name is listed is replaced by a short text/plain notice
// ("<name>.removed.txt"), everything else kept. Parsing and writing go through GMime.

#include <string>
#include <string_view>
#include <vector>

#include "bulwark/common/result.h"

namespace bulwark::mail {

// The message with the parts named in `file_names` replaced by a notice saying
// "The attachment <name> was <notice>." Line ends follow the message's own.
// Errors: kNotFound when a listed name matches no part (so that a caller never delivers a
// message it believes cleaned); kInvalidArgument when GMime cannot parse the message.
Result<std::string> StripAttachments(std::string_view message,
                                     const std::vector<std::string>& file_names,
                                     std::string_view notice);

// SHA-256 (lower-case hex) of every leaf part's decoded content (attachments and text
// parts, inside nested messages too; at most 1000 parts, 64 levels), for sweeps by hash.
// kInvalidArgument when GMime cannot parse the message.
Result<std::vector<std::string>> PartHashes(std::string_view message);

}  // namespace bulwark::mail
