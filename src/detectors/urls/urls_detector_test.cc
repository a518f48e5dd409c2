#include "detectors/urls/urls_detector.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "bulwark/engine/engine.h"
#include "bulwark/engine/scan_context.h"
#include "extensions/standard_extensions.h"
#include "test/support/test_support.h"

namespace bulwark::detectors {
namespace {

using engine::Category;
using engine::Finding;
using engine::Severity;

struct Result {
  std::vector<Finding> findings;
  std::vector<std::string> urls;
};

Result Inspect(const std::string& bytes, content::FileKind kind,
               urls::UrlReputation reputation = {}) {
  auto detector = CreateUrlsDetector(std::move(reputation));
  content::Object object;
  object.info.name = "body";
  object.info.type.kind = kind;
  object.info.size = bytes.size();
  object.data = content::Blob::Copy(bytes);
  engine::Limits limits;
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  engine::FindingList findings;
  EXPECT_TRUE(detector->Accepts(object.info));
  EXPECT_TRUE(detector->Inspect(object, ctx, findings).ok());
  return Result{findings.findings(), ctx.TakeUrls()};
}

const Finding* Named(const Result& r, std::string_view name) {
  for (const auto& f : r.findings) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string Html(const std::string& body) {
  return "<!DOCTYPE html><html><body>" + body + "</body></html>";
}

TEST(UrlsDetectorTest, NewsletterWhoseLinkTextsMatchTheirHrefsIsClean) {
  std::string body = "<h1>Our monthly news</h1><table>";
  for (int i = 0; i < 40; ++i) {
    body += "<tr><td><a href=\"https://www.example-shop.com/article/" + std::to_string(i) +
            "?utm_source=news&amp;utm_medium=email\">www.example-shop.com/article/" +
            std::to_string(i) + "</a> <a href=\"https://example-shop.com/p/" + std::to_string(i) +
            "\">Read more</a> <img src=\"https://cdn.example-shop.com/i/" + std::to_string(i) +
            ".png\"></td></tr>";
  }
  body += "</table><p><a href=\"https://news.example-shop.com/unsubscribe\">example-shop.com"
          "</a> &middot; <a href=\"https://www.example-shop.co.uk/\">Example Shop UK</a></p>";
  Result r = Inspect(Html(body), content::FileKind::kHtml);
  EXPECT_TRUE(r.findings.empty()) << r.findings[0].name << ": " << r.findings[0].detail;
  EXPECT_EQ(r.urls.size(), 40u * 4 + 2);  // the link texts are URLs too (http, no query)
}

TEST(UrlsDetectorTest, LinkTextShowingAnotherDomainIsADisplayMismatch) {
  Result r = Inspect(Html("Dear customer, <a href=\"https://secure-verify.example.net/pp/login"
                          "?session=TOKEN123\">https://www.paypal.com/signin</a>"),
                     content::FileKind::kHtml);
  const Finding* f = Named(r, "Url.DisplayMismatch");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::kSuspicious);
  EXPECT_EQ(f->severity, Severity::kInfo);  // evidence: click trackers do this in ham too
  EXPECT_EQ(f->detector, "urls");
  EXPECT_NE(f->detail.find("text shows www.paypal.com"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("https://secure-verify.example.net/pp/login"), std::string::npos);
  EXPECT_EQ(f->detail.find("TOKEN123"), std::string::npos) << "query strings never in details";
  // Bare domains in link text count too; other text does not.
  EXPECT_NE(Named(Inspect(Html("<a href='http://evil.example/'>PayPal.com</a>"),
                          content::FileKind::kHtml),
                  "Url.DisplayMismatch"),
            nullptr);
  EXPECT_EQ(Named(Inspect(Html("<a href='http://evil.example/'>Click here</a>"),
                          content::FileKind::kHtml),
                  "Url.DisplayMismatch"),
            nullptr);
  EXPECT_EQ(Named(Inspect(Html("<a href='http://evil.example/'>report.txt</a>"),
                          content::FileKind::kHtml),
                  "Url.DisplayMismatch"),
            nullptr);
}

TEST(UrlsDetectorTest, IpLiteralHostsIncludingNumericForms) {
  Result r = Inspect("Log in at http://192.0.2.10/login or http://3221225994/x today",
                     content::FileKind::kText);
  const Finding* f = Named(r, "Url.IpLiteralHost");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("2 URLs"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("http://192.0.2.10/x (address written as a number)"),
            std::string::npos)
      << f->detail;
  EXPECT_EQ(Named(Inspect("see https://example.com/", content::FileKind::kText),
                  "Url.IpLiteralHost"),
            nullptr);
}

TEST(UrlsDetectorTest, Shorteners) {
  Result r = Inspect("track it: https://bit.ly/3xYz and https://www.tinyurl.com/abc",
                     content::FileKind::kText);
  const Finding* f = Named(r, "Url.Shortener");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_NE(f->detail.find("2 URLs"), std::string::npos) << f->detail;
  EXPECT_EQ(Named(Inspect("https://bitly.example.com/ https://notbit.ly.example/",
                          content::FileKind::kText),
                  "Url.Shortener"),
            nullptr);
}

TEST(UrlsDetectorTest, PunycodeAndMixedScriptHosts) {
  // "pаypal.com" with a Cyrillic 'а', written in Unicode.
  Result homoglyph = Inspect("Verify: https://p\xD0\xB0ypal.com/verify", content::FileKind::kText);
  const Finding* mixed = Named(homoglyph, "Url.MixedScriptHost");
  ASSERT_NE(mixed, nullptr);
  EXPECT_NE(mixed->detail.find("Latin+Cyrillic"), std::string::npos) << mixed->detail;
  EXPECT_NE(Named(homoglyph, "Url.PunycodeHost"), nullptr);
  ASSERT_EQ(homoglyph.urls.size(), 1u);
  EXPECT_EQ(homoglyph.urls[0].substr(0, 12), "https://xn--");

  // The same host written in punycode is the same finding.
  const std::string ascii = homoglyph.urls[0];
  EXPECT_NE(Named(Inspect("Verify: " + ascii, content::FileKind::kText), "Url.MixedScriptHost"),
            nullptr);

  // An all-Cyrillic IDN is punycode but no mix; a German umlaut domain neither mixes.
  Result cyrillic = Inspect("http://\xD0\xBF\xD1\x80\xD0\xB8\xD0\xBC\xD0\xB5\xD1\x80.\xD1\x80\xD1\x84/",
                            content::FileKind::kText);
  EXPECT_NE(Named(cyrillic, "Url.PunycodeHost"), nullptr);
  EXPECT_EQ(Named(cyrillic, "Url.MixedScriptHost"), nullptr);
  EXPECT_EQ(Named(Inspect("https://b\xC3\xBC" "cher.de/", content::FileKind::kText),
                  "Url.MixedScriptHost"),
            nullptr);
}

TEST(UrlsDetectorTest, CredentialForms) {
  Result r = Inspect(Html("<form method=post action='https://collect.example/p.php?id=9'>"
                          "<input name=u><input type=password name=p></form>"),
                     content::FileKind::kHtml);
  const Finding* f = Named(r, "Url.CredentialForm");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->detail, "1 form with a password field, posting to https://collect.example/p.php");
  EXPECT_EQ(Named(Inspect(Html("<form action=/search><input type=text name=q></form>"),
                          content::FileKind::kHtml),
                  "Url.CredentialForm"),
            nullptr);
}

TEST(UrlsDetectorTest, BlockFeedsAndAllowLists) {
  urls::UrlReputation reputation;
  reputation.AddFeed(urls::UrlReputation::List::kBlock, "https://evil.example/dl/x.exe\n",
                     "urlhaus-malware.urls");
  reputation.AddFeed(urls::UrlReputation::List::kBlock, "phish.example\n", "phish.domains");
  reputation.AddFeed(urls::UrlReputation::List::kAllow, "bit.ly\n", "ours.domains");
  Result r = Inspect("get http://evil.example/dl/x.exe and https://login.phish.example/ "
                     "and https://bit.ly/ok",
                     content::FileKind::kText, std::move(reputation));
  const Finding* f = Named(r, "Url.Blocklisted");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->category, Category::kMalware);
  EXPECT_EQ(f->severity, Severity::kHigh);
  EXPECT_NE(f->detail.find("2 URLs"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("URL listed in urlhaus-malware.urls"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("domain listed in phish.domains"), std::string::npos) << f->detail;
  EXPECT_EQ(Named(r, "Url.Shortener"), nullptr) << "allow-listed";

  urls::UrlReputation phishing_only;
  phishing_only.AddFeed(urls::UrlReputation::List::kBlock, "phish.example\n", "phish.domains");
  Result phishing = Inspect("https://phish.example/", content::FileKind::kText,
                            std::move(phishing_only));
  const Finding* g = Named(phishing, "Url.Blocklisted");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->category, Category::kSuspicious);
}

TEST(UrlsDetectorTest, TooManyUrlsIsNoSilentPass) {
  std::string text;
  for (int i = 0; i < 1100; ++i) text += "https://h" + std::to_string(i) + ".example/ ";
  Result r = Inspect(text, content::FileKind::kText);
  EXPECT_TRUE(testing::HasFinding(r.findings, Category::kUnscannable,
                                  engine::UnscannableReason::kObjectCountLimit));
  EXPECT_EQ(r.urls.size(), engine::ScanContext::kMaxUrls);
}

TEST(UrlsDetectorTest, EngineReportsTheUrlsOfAMessageAndReloadsFeeds) {
  testing::ScratchDir signatures;
  engine::Registry registry;
  extensions::RegisterStandardExtensions(registry);
  engine::EngineOptions options;
  options.signatures.directories = {signatures.path()};
  options.signatures.system_clamav_directory.clear();
  auto engine = engine::Engine::Create(std::move(options), std::move(registry));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();

  const std::string mail = testing::MakeMail(
      "Your invoice", "Pay at https://pay.example.com/inv?id=1 thanks",
      {{"page.html", Html("<a href='https://files.example.org/a'>files.example.org</a>")}});
  auto scan = [&] {
    content::Object object;
    object.info.name = "mail.eml";
    object.data = content::Blob::Copy(mail);
    return (*engine)->Scan(std::move(object));
  };
  engine::ScanReport report = scan();
  EXPECT_EQ(report.verdict.kind, policy::VerdictKind::kClean) << report.verdict.reason;
  EXPECT_EQ(report.urls, (std::vector<std::string>{"https://pay.example.com/inv?id=1",
                                                   "https://files.example.org/a"}));

  // A feed dropped into the signature directory counts from the next reload on.
  std::filesystem::create_directories(signatures.path() / "urls" / "block");
  signatures.Write("urls/block/local.domains", "files.example.org\n");
  const std::string version = (*engine)->signature_version();
  ASSERT_TRUE((*engine)->Reload().ok());
  EXPECT_NE((*engine)->signature_version(), version);
  report = scan();
  EXPECT_EQ(report.verdict.kind, policy::VerdictKind::kSuspicious) << report.verdict.reason;
  EXPECT_EQ(report.urls.size(), 2u);
}

}  // namespace
}  // namespace bulwark::detectors
