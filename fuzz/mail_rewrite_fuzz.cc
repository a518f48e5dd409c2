// libFuzzer target for the mail layer's rewriting of untrusted messages: removing an
// attachment (GMime parse and re-serialisation) and tagging the subject must never crash,
// leak or loop, whatever the bytes. The first input line names the attachment to remove;
// the rest is the message. Seeds: fuzz/corpus/mail_rewrite/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mail/attachment_strip.h"
#include "mail/mail_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t newline = input.find('\n');
  std::string_view name = input.substr(0, newline == std::string_view::npos ? 0 : newline);
  std::string_view message =
      newline == std::string_view::npos ? input : input.substr(newline + 1);

  bulwark::mail::MailVerdict verdict;
  verdict.subject_prefix = "[SUSPICIOUS]";
  verdict.add_headers.push_back({"X-Bulwark-Verdict", "suspicious; action=tag"});
  if (!name.empty()) {
    auto cleaned = bulwark::mail::StripAttachments(message, {std::string(name)}, "removed");
    if (cleaned.ok()) {
      verdict.strip_attachments = {std::string(name)};
      verdict.cleaned_message = std::move(cleaned).value();
    }
  }
  std::string out = bulwark::mail::RewriteMessage(message, {{"Received", "from fuzz"}}, verdict);
  if (out.size() < verdict.add_headers.front().value.size()) __builtin_trap();
  return 0;
}
