#include "milter/milter_reply.h"

#include <strings.h>

namespace bulwark::milter {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view TrimLeft(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

// A header value as the MTA wants it: with SMFIP_HDR_LEADSPC it carries its own leading
// space, else the MTA puts one after the colon.
std::string WireValue(std::string_view value, const Options& negotiated) {
  std::string out;
  if ((negotiated.protocol & kProtoHeaderLeadingSpace) != 0) out.push_back(' ');
  out.append(value);
  return out;
}

std::string ReplyCode(int code, std::string_view enhanced, std::string_view text, int fallback_code,
                      std::string_view fallback_enhanced) {
  bool right_class = code / 100 == fallback_code / 100;
  auto packet = right_class ? EncodeReplyCode(code, enhanced, text)
                            : EncodeReplyCode(fallback_code, fallback_enhanced, text);
  if (packet.ok()) return *packet;
  return *EncodeReplyCode(fallback_code, fallback_enhanced, "");
}

// The verdict's header fields, inserted at the top in their order (the first one ends up
// first).
std::string HeaderInsertions(const mail::MailVerdict& verdict, const Options& negotiated) {
  std::string out;
  if ((negotiated.actions & kActionAddHeaders) == 0) return out;
  for (auto it = verdict.add_headers.rbegin(); it != verdict.add_headers.rend(); ++it) {
    out += EncodeInsertHeader(0, it->name,
                              WireValue(FoldHeaderValue(it->name, it->value), negotiated));
  }
  return out;
}

std::string SubjectChange(std::string_view prefix, const Options& negotiated,
                          const std::vector<Header>& headers) {
  if (prefix.empty()) return "";
  for (const Header& header : headers) {
    if (!SameName(header.name, "Subject")) continue;
    std::optional<std::string> tagged = TaggedSubject(header.value, prefix);
    if (!tagged || (negotiated.actions & kActionChangeHeaders) == 0) return "";
    return EncodeChangeHeader(1, "Subject",
                              WireValue(FoldHeaderValue("Subject", *tagged), negotiated));
  }
  if ((negotiated.actions & kActionAddHeaders) == 0) return "";
  return EncodeAddHeader("Subject", WireValue(std::string(prefix), negotiated));
}

// The header block of `message` (up to the first empty line), as unfolded fields.
std::vector<mail::HeaderField> HeaderBlock(std::string_view message) {
  std::vector<mail::HeaderField> fields;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find('\n', pos);
    std::size_t end = eol == std::string_view::npos ? message.size() : eol;
    std::string_view line = message.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      fields.back().value += ' ';
      fields.back().value += TrimLeft(line);
    } else if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
      fields.push_back(
          {std::string(line.substr(0, colon)), std::string(TrimLeft(line.substr(colon + 1)))});
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return fields;
}

const mail::HeaderField* FindField(const std::vector<mail::HeaderField>& fields,
                                   std::string_view name) {
  for (const auto& field : fields) {
    if (SameName(field.name, name)) return &field;
  }
  return nullptr;
}

std::string ChangedHeaders(const MilterDecision& decision, const Options& negotiated) {
  std::string out;
  for (const auto& field : decision.changed_headers) {
    out += EncodeChangeHeader(1, field.name,
                              WireValue(FoldHeaderValue(field.name, field.value), negotiated));
  }
  return out;
}

std::string Deliver(const MilterDecision& decision, const Options& negotiated,
                    const std::vector<Header>& headers) {
  const mail::MailVerdict& verdict = decision.verdict;
  bool can_replace =
      (negotiated.actions & kActionChangeBody) != 0 &&
      (decision.changed_headers.empty() || (negotiated.actions & kActionChangeHeaders) != 0);
  if (decision.replacement_body && !can_replace) {
    return ReplyCode(550, "5.7.1", "Message refused: it carries attachments blocked by policy", 550,
                     "5.7.1");
  }
  std::string out = HeaderInsertions(verdict, negotiated);
  out += SubjectChange(verdict.subject_prefix, negotiated, headers);
  if (decision.replacement_body) {
    out += ChangedHeaders(decision, negotiated);
    out += EncodeReplaceBody(*decision.replacement_body);
  }
  out += EncodeResponse(Response::kAccept);
  return out;
}

std::string Quarantine(const MilterDecision& decision, const Options& negotiated) {
  if ((negotiated.actions & kActionQuarantine) == 0) return EncodeResponse(Response::kDiscard);
  const mail::MailVerdict& verdict = decision.verdict;
  std::string reason = "Bulwark: " + verdict.reply_text;
  if (verdict.outcome.event_seq)
    reason += " (event " + std::to_string(*verdict.outcome.event_seq) + ")";
  std::string out = HeaderInsertions(verdict, negotiated);
  out += EncodeQuarantine(reason);
  out += EncodeResponse(Response::kAccept);
  return out;
}

}  // namespace

std::string RejectReply(const mail::MailVerdict& verdict) {
  return ReplyCode(verdict.reply_code, verdict.enhanced_code, verdict.reply_text, 550, "5.7.1");
}

std::string TempFailReply(const mail::MailVerdict& verdict) {
  return ReplyCode(verdict.reply_code, verdict.enhanced_code, verdict.reply_text, 451, "4.7.1");
}

std::string EndOfMessageReply(const MilterDecision& decision, const Options& negotiated,
                              const std::vector<Header>& headers) {
  switch (decision.verdict.disposition) {
    case mail::Disposition::kDeliver:
      return Deliver(decision, negotiated, headers);
    case mail::Disposition::kReject:
      return RejectReply(decision.verdict);
    case mail::Disposition::kQuarantine:
      return Quarantine(decision, negotiated);
    case mail::Disposition::kDiscard:
      return EncodeResponse(Response::kDiscard);
    case mail::Disposition::kTempFail:
      return TempFailReply(decision.verdict);
  }
  return TempFailReply(decision.verdict);
}

BodyReplacement SplitRewrittenMessage(std::string_view original, std::string_view rewritten) {
  BodyReplacement replacement;
  std::size_t crlf = rewritten.find("\r\n\r\n");
  std::size_t lf = rewritten.find("\n\n");
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf)) {
    replacement.body = std::string(rewritten.substr(crlf + 4));
  } else if (lf != std::string_view::npos) {
    replacement.body = std::string(rewritten.substr(lf + 2));
  }
  std::vector<mail::HeaderField> before = HeaderBlock(original);
  std::vector<mail::HeaderField> after = HeaderBlock(rewritten);
  for (std::string_view name : {"MIME-Version", "Content-Type", "Content-Transfer-Encoding"}) {
    const mail::HeaderField* old_field = FindField(before, name);
    const mail::HeaderField* new_field = FindField(after, name);
    if (new_field == nullptr) continue;
    if (old_field == nullptr || old_field->value != new_field->value) {
      replacement.changed_headers.push_back({std::string(name), new_field->value});
    }
  }
  return replacement;
}

std::optional<std::string> TaggedSubject(std::string_view current, std::string_view prefix) {
  std::string_view text = TrimLeft(current);
  if (text.substr(0, prefix.size()) == prefix) return std::nullopt;
  if (text.empty()) return std::string(prefix);
  std::string tagged(prefix);
  tagged += ' ';
  tagged += text;
  return tagged;
}

std::string FoldHeaderValue(std::string_view name, std::string_view value) {
  constexpr std::size_t kWidth = 78;
  std::string out;
  std::size_t column = name.size() + 2;  // "Name: "
  std::size_t start = 0;
  while (start < value.size()) {
    std::size_t next = value.find_first_of(" \t", start + 1);
    if (next == std::string_view::npos) next = value.size();
    std::string_view word = value.substr(start, next - start);
    if (!out.empty() && column + word.size() > kWidth && (word[0] == ' ' || word[0] == '\t')) {
      out += '\n';
      column = 0;
    }
    out += word;
    column += word.size();
    start = next;
  }
  return out;
}

}  // namespace bulwark::milter
