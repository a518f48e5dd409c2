#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bulwark/engine/limits.h"
#include "bulwark/engine/scan_context.h"
#include "detectors/dlp/dlp_detector.h"
#include "detectors/dlp/dlp_scanner.h"
#include "detectors/dlp/identifiers.h"

namespace bulwark::detectors::dlp {
namespace {

const DlpScanner& DefaultScanner() {
  static const DlpScanner* scanner = [] {
    auto created = DlpScanner::Create(DlpConfig());
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? std::move(created).value().release() : nullptr;
  }();
  return *scanner;
}

// The values of `id` the default scanner validates in `text`.
std::vector<std::string> Found(Identifier id, const std::string& text) {
  DlpScanResult result;
  EXPECT_TRUE(DefaultScanner().Scan(text, result).ok());
  std::vector<std::string> out;
  for (const DlpMatch& m : result.matches) {
    if (m.id == id) out.push_back(text.substr(m.span.begin, m.span.end - m.span.begin));
  }
  return out;
}

void ExpectFound(Identifier id, const std::string& text, const std::string& value) {
  EXPECT_EQ(Found(id, text), std::vector<std::string>{value})
      << IdentifierName(id) << " in: " << text;
}
void ExpectNone(Identifier id, const std::string& text) {
  EXPECT_TRUE(Found(id, text).empty()) << IdentifierName(id) << " wrongly in: " << text;
}

std::vector<engine::Finding> Inspect(const std::string& bytes,
                                     content::FileKind kind = content::FileKind::kText,
                                     const DlpConfig& config = DlpConfig()) {
  auto detector = CreateDlpDetector(config);
  EXPECT_TRUE(detector.ok()) << detector.status().ToString();
  content::Object object;
  object.info.type.kind = kind;
  object.info.size = bytes.size();
  object.data = content::Blob::Copy(bytes);
  engine::Limits limits;
  engine::ScanContext ctx(limits, engine::ScanContext::Clock::now());
  engine::FindingList findings;
  if ((*detector)->Accepts(object.info)) {
    EXPECT_TRUE((*detector)->Inspect(object, ctx, findings).ok());
  }
  return findings.findings();
}

const engine::Finding* FindingNamed(const std::vector<engine::Finding>& findings,
                                    const std::string& name) {
  for (const auto& f : findings) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(DlpCardTest, BrandsSeparatorsAndLuhn) {
  for (const char* card :
       {"4111111111111111", "5555555555554444", "2223003122003222", "378282246310005",
        "6011111111111117", "3530111333300000", "30569309025904", "6200000000000005",
        "4111 1111 1111 1111", "4111-1111-1111-1111", "3782 822463 10005"}) {
    ExpectFound(Identifier::kPaymentCard, std::string("pay with ") + card + " today", card);
  }
  ExpectNone(Identifier::kPaymentCard, "card 4111111111111112 (Luhn fails)");
  ExpectNone(Identifier::kPaymentCard, "mixed 4111 1111-1111 1111 separators");
  ExpectNone(Identifier::kPaymentCard, "double  4111  1111 1111 1111 spaces");
  ExpectNone(Identifier::kPaymentCard, "longer 4111 1111 1111 1111 2222 group");
  ExpectNone(Identifier::kPaymentCard, "no brand 9111111111111119");
  ExpectNone(Identifier::kPaymentCard, "inside a word x4111111111111111y");
  ExpectNone(Identifier::kPaymentCard, "all zeros 0000000000000000");
}

TEST(DlpIbanTest, ChecksumLengthAndSpacing) {
  ExpectFound(Identifier::kIban, "IBAN: DE89370400440532013000.", "DE89370400440532013000");
  ExpectFound(Identifier::kIban, "to GB82 WEST 1234 5698 7654 32 please",
              "GB82 WEST 1234 5698 7654 32");
  ExpectFound(Identifier::kIban, "FR1420041010050500013M02606", "FR1420041010050500013M02606");
  ExpectFound(Identifier::kIban, "nl91abna0417164300 lower", "nl91abna0417164300");
  ExpectNone(Identifier::kIban, "DE88370400440532013000 wrong check digits");
  ExpectNone(Identifier::kIban, "DE8937040044053201300 one digit short");
  ExpectNone(Identifier::kIban, "QQ89370400440532013000 no such country");
  ExpectNone(Identifier::kIban, "we met at 10 am on the fourth floor yesterday afternoon");
}

TEST(DlpIbanTest, LengthTableAgreesWithSwiftSamples) {
  EXPECT_EQ(IbanLength("DE"), 22);
  EXPECT_EQ(IbanLength("NO"), 15);
  EXPECT_EQ(IbanLength("RU"), 33);
  EXPECT_EQ(IbanLength("US"), 0);
  EXPECT_TRUE(IbanValid("NO9386011117947"));
  EXPECT_TRUE(IbanValid("BE68539007547034"));
  EXPECT_TRUE(IbanValid("MT84MALT011000012345MTLCAST001S"));
}

TEST(DlpSsnTest, InvalidRanges) {
  ExpectFound(Identifier::kUsSsn, "SSN 457-55-5462.", "457-55-5462");
  ExpectFound(Identifier::kUsSsn, "ssn: 457 55 5462", "457 55 5462");
  ExpectFound(Identifier::kUsSsn, "Social Security number 457555462", "457555462");
  ExpectNone(Identifier::kUsSsn, "order 457555462 shipped");  // bare: needs context
  for (const char* bad : {"000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456", "123-00-4567",
                          "123-45-0000", "078-05-1120", "219-09-9999", "457-55 5462"}) {
    ExpectNone(Identifier::kUsSsn, std::string("SSN ") + bad);
  }
}

TEST(DlpNinoTest, PrefixAndSuffix) {
  ExpectFound(Identifier::kUkNino, "NI number AB 12 34 56 C", "AB 12 34 56 C");
  ExpectFound(Identifier::kUkNino, "NI number JG103759A.", "JG103759A");
  for (const char* bad :
       {"GB123456A", "BG123456A", "DA123456A", "AO123456A", "AB123456E", "ZZ123456A"}) {
    ExpectNone(Identifier::kUkNino, std::string("NI ") + bad);
  }
}

TEST(DlpContactTest, EmailAndPhone) {
  ExpectFound(Identifier::kEmail, "mail john.smith+x@mail.example.co.uk, thanks",
              "john.smith+x@mail.example.co.uk");
  ExpectNone(Identifier::kEmail, "user@localhost has no domain");
  ExpectNone(Identifier::kEmail, "a..b@example.com");
  ExpectFound(Identifier::kPhone, "call +44 20 7946 0958 now", "+44 20 7946 0958");
  ExpectFound(Identifier::kPhone, "call (555) 123-4567 now", "(555) 123-4567");
  ExpectFound(Identifier::kPhone, "call 905-674-3793 now", "905-674-3793");
  ExpectFound(Identifier::kPhone, "call 07700900123 now", "07700900123");
  ExpectNone(Identifier::kPhone, "call 555-1234 (7 digits)");
  ExpectNone(Identifier::kPhone, "date 2024-01-15 12:00");
  // A card number is a card, never also a phone.
  ExpectNone(Identifier::kPhone, "amex 3782 822463 10005");
}

TEST(DlpNetworkTest, Ipv4AndIpv6) {
  ExpectFound(Identifier::kIpv4, "from 192.168.1.20 at", "192.168.1.20");
  ExpectNone(Identifier::kIpv4, "bad 256.1.1.1");
  ExpectNone(Identifier::kIpv4, "leading zero 01.2.3.4");
  ExpectNone(Identifier::kIpv4, "five parts 1.2.3.4.5");
  // Documented choice: a dotted quad right after "version"/"v" is a version number.
  ExpectNone(Identifier::kIpv4, "version 1.2.3.4 released");
  ExpectNone(Identifier::kIpv4, "v10.0.0.1");
  ExpectFound(Identifier::kIpv6, "host 2001:db8::8a2e:370:7334 up", "2001:db8::8a2e:370:7334");
  ExpectFound(Identifier::kIpv6, "fe80:0:0:0:202:b3ff:fe1e:8329", "fe80:0:0:0:202:b3ff:fe1e:8329");
  ExpectNone(Identifier::kIpv6, "at 12:30:45 today");
  ExpectNone(Identifier::kIpv6, "std::string and a::b");
  ExpectNone(Identifier::kIpv6, "mac 00:1a:2b:3c:4d:5e");
}

TEST(DlpDobTest, OnlyNearContextWords) {
  ExpectFound(Identifier::kDateOfBirth, "Date of birth: 12/03/1985", "12/03/1985");
  ExpectFound(Identifier::kDateOfBirth, "DOB 1985-03-12", "1985-03-12");
  ExpectFound(Identifier::kDateOfBirth, "born on 3 March 1985", "3 March 1985");
  ExpectFound(Identifier::kDateOfBirth, "geboren am 12.03.1985", "12.03.1985");
  ExpectNone(Identifier::kDateOfBirth, "meeting on 12/03/1985");
  ExpectNone(Identifier::kDateOfBirth, "DOB 31/13/1985 (no month 13 either way)");
}

// Dates are looked for only within reach of a context word (the main database reports
// the word, a bounded window then finds the date): the edges of that reach.
TEST(DlpDobTest, ContextWindowEdges) {
  // 40 bytes before the date hold the whole word: found; one byte further: not.
  ExpectFound(Identifier::kDateOfBirth, "dob" + std::string(37, ' ') + "12/03/1985", "12/03/1985");
  ExpectNone(Identifier::kDateOfBirth, "dob" + std::string(38, ' ') + "12/03/1985");
  // Two words before one date: one match. A word glued to the date.
  ExpectFound(Identifier::kDateOfBirth, "born (DOB) 12/03/1985", "12/03/1985");
  ExpectFound(Identifier::kDateOfBirth, "geb.12.03.1985", "12.03.1985");
  // A date that continues into a word is not cut at the end of the window.
  ExpectNone(Identifier::kDateOfBirth, "dob 12/03/19851");
  // Several dates after separate words.
  DlpScanResult result;
  ASSERT_TRUE(DefaultScanner().Scan("dob 01/02/1990, born 3 March 1985", result).ok());
  int dates = 0;
  for (const DlpMatch& m : result.matches) dates += m.id == Identifier::kDateOfBirth;
  EXPECT_EQ(dates, 2);
}

// Starts are recovered from match ends by a bounded look-back: long and adjacent matches.
TEST(DlpScannerTest, StartsFromEnds) {
  std::string local(60, 'a');
  ExpectFound(Identifier::kEmail, "mail " + local + "@example.com now", local + "@example.com");
  ExpectNone(Identifier::kEmail, "mail " + std::string(70, 'a') + "@example.com now");
  ExpectFound(Identifier::kEmail, "x jo.doe+tag@corp.example.net.", "jo.doe+tag@corp.example.net");
  std::string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  // "aws" after the key is context too.
  ExpectFound(Identifier::kAwsSecretKey, secret + " is the secret for aws\n", secret);
  ExpectFound(Identifier::kAwsSecretKey, "aws secret:" + std::string(140, ' ') + secret, secret);
  ExpectNone(Identifier::kAwsSecretKey, "aws secret:" + std::string(170, ' ') + secret);
}

// A long match that ends at every byte (a JWT's open-ended last part) must not make the
// look-backs quadratic: the rescans are budgeted and the scan stays quick.
TEST(DlpScannerTest, LongOpenEndedMatchStaysLinear) {
  std::string text = "eyJhbGciOiJIUzI1NiJ9.abcd." + std::string(1u << 20, 'a');
  DlpScanResult result;
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(DefaultScanner().Scan(text, result).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST(DlpSecretsTest, TokensAndKeys) {
  const std::string akia = std::string("AKIA") + "IOSFODNN7EXAMPLE";
  ExpectFound(Identifier::kAwsAccessKey, "key=" + akia + "\n", akia);
  ExpectNone(Identifier::kAwsAccessKey, "key=" + akia.substr(0, 19) + "\n");
  ExpectNone(Identifier::kAwsAccessKey, "key=" + akia + "X\n");
  const std::string secret = std::string("wJalrXUtnFEMI/K7MDENG/") + "bPxRfiCYEXAMPLEKEY";
  ExpectFound(Identifier::kAwsSecretKey, "aws_secret_access_key = " + secret + "\n", secret);
  ExpectNone(Identifier::kAwsSecretKey, "unrelated = " + secret + "\n");
  const std::string ghp = "ghp_" + std::string("A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
  ExpectFound(Identifier::kGithubToken, "token " + ghp + " end", ghp);
  ExpectNone(Identifier::kGithubToken, "token " + ghp.substr(0, 30) + " end");
  const std::string glpat = "glpat-" + std::string("xY3kQ9mZ2pL7vB8nR4tW");
  ExpectFound(Identifier::kGitlabToken, "GITLAB=" + glpat + "\n", glpat);
  const std::string slack = "xoxb-" + std::string("1234567890-0987654321-AbCdEfGhIjKlMnOp");
  ExpectFound(Identifier::kSlackToken, "slack " + slack + " ok", slack);
  const std::string hook =
      std::string("hooks.slack.com/services/") + "T0ABCDEFG/B0ABCDEFG/abcdefghijklmnopqrstuvwx";
  ExpectFound(Identifier::kSlackWebhook, "https://" + hook, hook);
  const std::string stripe = "sk_live_" + std::string("4eC39HqLyjWDarjtT1zdp7dc");
  ExpectFound(Identifier::kStripeKey, "stripe " + stripe + ";", stripe);
  ExpectNone(Identifier::kStripeKey, "stripe sk_test_4eC39HqLyjWDarjtT1zdp7dc;");
  const std::string google = "AIza" + std::string("SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY");
  ExpectFound(Identifier::kGoogleApiKey, "key=" + google + "&", google);
  ExpectFound(Identifier::kPrivateKey, "-----BEGIN RSA PRIVATE KEY-----\nMIIE...",
              "-----BEGIN RSA PRIVATE KEY-----");
  ExpectFound(Identifier::kPrivateKey, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl",
              "-----BEGIN OPENSSH PRIVATE KEY-----");
  ExpectNone(Identifier::kPrivateKey, "-----BEGIN PUBLIC KEY-----");
  const std::string jwt = std::string("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.") +
                          "eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
  ExpectFound(Identifier::kJwt, "Bearer " + jwt + "\n", jwt);
  ExpectNone(Identifier::kJwt, "eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijkl");
  ExpectFound(Identifier::kConnectionPassword, "DB=postgres://admin:s3cr3tP4ss@db.internal/app",
              "postgres://admin:s3cr3tP4ss@db.internal");
  ExpectNone(Identifier::kConnectionPassword, "postgres://user:${DB_PASSWORD}@db.internal/app");
  ExpectFound(Identifier::kConnectionPassword,
              "Server=tcp:sql1;Database=app;User ID=svc;Password=Hunter2Pass!;",
              "Password=Hunter2Pass!");
  ExpectNone(Identifier::kConnectionPassword, "Please set Password=changeme; in the form");
}

// KEY=value, `key: value`, `"key": "value"`, `key = "value"`, `export KEY=value` where the
// key name says the value is a secret; placeholders, references and prose are not.
TEST(DlpSecretAssignmentTest, FormsPeopleWrite) {
  const Identifier id = Identifier::kSecretAssignment;
  ExpectFound(id, "DB_HOST=db\nDB_PASSWORD=s3cr3t-Value\n", "s3cr3t-Value");
  ExpectFound(id, "export MYSQL_ROOT_PASSWORD=Xk9#mP2qZ", "Xk9#mP2qZ");
  ExpectFound(id, "db:\n  password: hunter22  # old\n", "hunter22");
  ExpectFound(id, R"({"user": "svc", "client_secret": "aB3dE5fG7hJ9kL1m"})", "aB3dE5fG7hJ9kL1m");
  ExpectFound(id, "[api]\napi_key = \"9f8e7d6c5b4a\"\n", "9f8e7d6c5b4a");
  ExpectFound(id, "x-api-key: 7Hq2LmZp9WvX\r\n", "7Hq2LmZp9WvX");
  ExpectFound(id, "dbPassword: 'HunterTwo'", "HunterTwo");  // quoted mixed case
  ExpectFound(id, "DB_PASS=Zq8!wE4r", "Zq8!wE4r");
  ExpectFound(id, "auth_token => 'tok_51HxZq2eZvKYlo2C'", "tok_51HxZq2eZvKYlo2C");
  ExpectFound(id, "Password=Hunter2Pass!", "Hunter2Pass!");  // no connection-string keys
  ExpectFound(id, "secret: \"my pass 42\"", "my pass 42");   // quoted: up to 2 spaces
}

TEST(DlpSecretAssignmentTest, PlaceholdersAndReferences) {
  const Identifier id = Identifier::kSecretAssignment;
  for (const char* text : {"DB_PASSWORD=${DB_PASSWORD}",
                           "DB_PASSWORD=$DB_PASS",
                           "password: %PASSWORD%",
                           "password: <password>",
                           "password: \"{{ vault_db_password }}\"",
                           "password: xxxxxxxx",
                           "password: ********",
                           "password: ......",
                           "password: changeme",
                           "PASSWORD=ChangeMe",
                           "password: null",
                           "secret: undefined",
                           "token: true",
                           "secret=abc12",
                           "secret=aaaaaaa1",
                           "api_key: your_api_key_here",
                           "DB_PASSWORD=",
                           "password: /run/secrets/db_password",
                           "DB_PASSWORD=123456789",
                           "password = \"\"",
                           "token: example-token-1"}) {
    ExpectNone(id, text);
  }
}

TEST(DlpSecretAssignmentTest, NearMisses) {
  const Identifier id = Identifier::kSecretAssignment;
  for (const char* text : {
           "Password: please reset it today",                             // prose, one class
           "your password: hunter22 is what I use",                       // more words follow
           "Enter your \"password\": \"Must be at least 8 characters\"",  // a label
           "bypass=abc123def",
           "compass: N12E45xx",  // "pass" not a whole part of the key
           "password_hash=5f4dcc3b5aa765d61d8327deb882cf99",
           "\"hashed_secret\": \"513e0a36963ae1e8431c041b744679ee578b7c44\"",
           "publicKeyToken=\"6595b64144ccf1df\"",
           "if password == 'hunter22':",
           "Token::Value x1y2z3w4",
           "password = os.environ['DB_PASSWORD']",
           "password = getpass()",
           "token = settings.API_TOKEN",  // an identifier path
           "https://example.org/reset?token=abc123def456&x=1",
           "the password_policy: Min8Chars!",  // key ends in another word
           "tokenizer=bpe-50k-v2",
       }) {
    ExpectNone(id, text);
  }
  // A value that is a known kind of token or a connection string is reported as that.
  const std::string ghp = "ghp_" + std::string("A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
  ExpectNone(id, "GITHUB_TOKEN=" + ghp + "\n");
  ExpectFound(Identifier::kGithubToken, "GITHUB_TOKEN=" + ghp + "\n", ghp);
  ExpectNone(id, "Server=tcp:sql1;Database=app;User ID=svc;Password=Hunter2Pass!;");
  // Two assignments on one line, one key holding two keywords.
  EXPECT_EQ(Found(id, "{\"password\": \"Qw3rty!!\", \"token\": \"Zx9Cv8Bn7\"}"),
            (std::vector<std::string>{"Qw3rty!!", "Zx9Cv8Bn7"}));
  EXPECT_EQ(Found(id, "SECRET_TOKEN=Ab12Cd34Ef"), std::vector<std::string>{"Ab12Cd34Ef"});
}

TEST(DlpSecretAssignmentTest, KeyNamesAndValues) {
  for (const char* key :
       {"password", "DB_PASSWORD", "dbPassword", "MYSQL_PASS", "pwd", "x-api-key", "apiKey",
        "AWS_SECRET_ACCESS_KEY", "client_secret", "auth.token", "SECRET_KEY", "passphrase"}) {
    EXPECT_TRUE(SecretKeyName(key)) << key;
  }
  for (const char* key : {"bypass", "compass", "password_policy", "hashed_secret", "token_url",
                          "publicKeyToken", "passport", "", "secretary"}) {
    EXPECT_FALSE(SecretKeyName(key)) << key;
  }
  for (const char* value : {"s3cr3t-Value", "8ae31cacf141669ddfb5da", "P@ssw0rd!", "hunter22"}) {
    EXPECT_TRUE(SecretValueLike(value, false)) << value;
  }
  EXPECT_TRUE(SecretValueLike("HunterTwo", true));
  EXPECT_FALSE(SecretValueLike("HunterTwo", false));  // unquoted: an identifier in code
  EXPECT_FALSE(SecretValueLike("user_input", false));
  EXPECT_FALSE(SecretValueLike("a1 b2 c3 d4", true));  // 3 spaces: prose
  EXPECT_FALSE(SecretValueLike("abc12", false));       // shorter than 6
  EXPECT_FALSE(SecretValueLike("ab1ab1ab1", false));   // 3 distinct characters
}

TEST(DlpMaskTest, Formats) {
  EXPECT_EQ(Mask(Identifier::kPaymentCard, "4111 1111 1111 1111"), "************1111");
  EXPECT_EQ(Mask(Identifier::kIban, "DE89 3704 0044 0532 0130 00"), "DE89**************3000");
  EXPECT_EQ(Mask(Identifier::kEmail, "john@example.com"), "j***@example.com");
  EXPECT_EQ(Mask(Identifier::kUsSsn, "457-55-5462"), "***-**-5462");
  EXPECT_EQ(Mask(Identifier::kPrivateKey, "-----BEGIN RSA PRIVATE KEY-----"), "private-key:RSA");
  EXPECT_EQ(Mask(Identifier::kPrivateKey, "-----BEGIN PRIVATE KEY-----"), "private-key:generic");
  EXPECT_EQ(Mask(Identifier::kConnectionPassword, "Password=short"), "connection-password:****");
  EXPECT_EQ(Mask(Identifier::kSecretAssignment, "8ae31cacf141669ddfb5da"),
            "secret-assignment:****b5da");
  EXPECT_EQ(Mask(Identifier::kSecretAssignment, "s3cr3t-Val"), "secret-assignment:****");
}

TEST(DlpDetectorTest, TemplatesFireWithMaskedDetails) {
  const std::vector<std::string> raw = {
      "4111111111111111", "5555555555554444",       "DE89370400440532013000",
      "457-55-5462",      "jane.doe@acme-corp.com", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
      "s3cr3tP4ss",       "+44 20 7946 0958"};
  std::string text =
      "Credit card 4111111111111111 and 5555555555554444, exp 12/29.\n"
      "IBAN DE89370400440532013000, mail jane.doe@acme-corp.com, phone +44 20 7946 "
      "0958.\nSSN 457-55-5462\ntoken ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8\n"
      "url postgres://admin:s3cr3tP4ss@db.internal/app\n";
  auto findings = Inspect(text);
  for (const char* name : {"DLP.PCI-DSS", "DLP.GDPR", "DLP.US-PII", "DLP.Credentials"}) {
    const engine::Finding* f = FindingNamed(findings, name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->detector, "dlp");
    EXPECT_EQ(f->category, engine::Category::kPolicy);
  }
  const engine::Finding* pci = FindingNamed(findings, "DLP.PCI-DSS");
  EXPECT_NE(pci->detail.find("payment-card: 2 (************1111, ************4444)"),
            std::string::npos)
      << pci->detail;
  EXPECT_NE(pci->detail.find("confidence: high"), std::string::npos) << pci->detail;
  EXPECT_EQ(pci->severity, engine::Severity::kHigh);
  const engine::Finding* gdpr = FindingNamed(findings, "DLP.GDPR");
  EXPECT_NE(gdpr->detail.find("DE89**************3000"), std::string::npos) << gdpr->detail;
  EXPECT_NE(gdpr->detail.find("j***@acme-corp.com"), std::string::npos) << gdpr->detail;
  // No raw value anywhere in any finding.
  for (const auto& f : findings) {
    for (const std::string& value : raw) {
      EXPECT_EQ(f.detail.find(value), std::string::npos) << value << " in " << f.detail;
      EXPECT_EQ(f.name.find(value), std::string::npos);
      EXPECT_EQ(f.path.ToString().find(value), std::string::npos);
    }
  }
}

TEST(DlpDetectorTest, EnvFilePasswordIsACredential) {
  auto findings =
      Inspect("DB_HOST=db.internal\nDB_USERNAME=app\nDB_PASSWORD=8ae31cacf141669ddfb5da\n");
  const engine::Finding* f = FindingNamed(findings, "DLP.Credentials");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("secret-assignment: 1 (secret-assignment:****b5da)"), std::string::npos)
      << f->detail;
  EXPECT_EQ(f->detail.find("8ae31cacf141669ddfb5da"), std::string::npos);
  EXPECT_EQ(f->severity, engine::Severity::kHigh);
  EXPECT_EQ(
      FindingNamed(Inspect("Please reset your password: use the link below.\n"), "DLP.Credentials"),
      nullptr);
}

TEST(DlpDetectorTest, ThresholdsAndContext) {
  // GDPR needs 3 by default: one e-mail address is not enough.
  EXPECT_EQ(FindingNamed(Inspect("write to jane@example.org"), "DLP.GDPR"), nullptr);
  DlpConfig config;
  config.gdpr.min_count = 1;
  config.pci_dss.min_count = 2;
  auto findings =
      Inspect("write to jane@example.org, card 4111111111111111", content::FileKind::kText, config);
  EXPECT_NE(FindingNamed(findings, "DLP.GDPR"), nullptr);
  EXPECT_EQ(FindingNamed(findings, "DLP.PCI-DSS"), nullptr);
  config.pci_dss.enabled = false;
  EXPECT_EQ(
      FindingNamed(Inspect("4111111111111111 5555555555554444", content::FileKind::kText, config),
                   "DLP.PCI-DSS"),
      nullptr);
  // Words that say the data is not real lower confidence and severity.
  auto sample = Inspect("Use the sample number 4111111111111111 in the sandbox.");
  const engine::Finding* low = FindingNamed(sample, "DLP.PCI-DSS");
  ASSERT_NE(low, nullptr);
  EXPECT_NE(low->detail.find("confidence: low"), std::string::npos) << low->detail;
  EXPECT_EQ(low->severity, engine::Severity::kMedium);
  auto plain = Inspect("ref 4111111111111111");
  ASSERT_NE(FindingNamed(plain, "DLP.PCI-DSS"), nullptr);
  EXPECT_NE(FindingNamed(plain, "DLP.PCI-DSS")->detail.find("confidence: medium"),
            std::string::npos);
}

TEST(DlpDetectorTest, CustomKeywordsAndRegexes) {
  DlpConfig config;
  config.custom_keywords = {"Project Falcon"};
  config.custom_regexes = {R"(\bEMP-\d{6}\b)"};
  auto findings = Inspect("re: project falcon, staff EMP-123456", content::FileKind::kText, config);
  const engine::Finding* custom = FindingNamed(findings, "DLP.Custom");
  ASSERT_NE(custom, nullptr);
  EXPECT_NE(custom->detail.find("custom-keyword: 1"), std::string::npos) << custom->detail;
  EXPECT_NE(custom->detail.find("custom-regex: 1"), std::string::npos) << custom->detail;
  EXPECT_EQ(custom->detail.find("EMP-123456"), std::string::npos);

  DlpConfig bad;
  bad.custom_regexes = {R"(ok\d+)", R"(broken(unclosed)", R"(x)"};
  auto detector = CreateDlpDetector(bad);
  ASSERT_FALSE(detector.ok());
  EXPECT_EQ(detector.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(detector.status().message().find("custom regex #1"), std::string::npos)
      << detector.status().message();
  bad.custom_regexes = {R"((?=x)y)"};  // look-ahead: unsupported by Hyperscan
  detector = CreateDlpDetector(bad);
  ASSERT_FALSE(detector.ok());
  EXPECT_NE(detector.status().message().find("custom regex #0"), std::string::npos);
}

TEST(DlpDetectorTest, MarkupAndKinds) {
  auto html = Inspect(
      "<html><head><style>.x{}</style><script>var c='4111111111111111';</script></head>"
      "<body><p>Card: 5555&#32;5555<b>5555</b>&#x20;4444</p></body></html>",
      content::FileKind::kHtml);
  const engine::Finding* pci = FindingNamed(html, "DLP.PCI-DSS");
  ASSERT_NE(pci, nullptr);
  EXPECT_NE(pci->detail.find("payment-card: 1 (************4444)"), std::string::npos)
      << pci->detail;
  // An OOXML part: runs of one paragraph joined, elements apart.
  auto xml = Inspect(
      "<?xml version=\"1.0\"?><w:document><w:p><w:r><w:t>4111 1111</w:t></w:r><w:r><w:t> "
      "1111 1111</w:t></w:r></w:p></w:document>",
      content::FileKind::kUnknown);
  EXPECT_NE(FindingNamed(xml, "DLP.PCI-DSS"), nullptr);
  // Binary unknown content and e-mail objects are not inspected.
  std::string binary("4111111111111111\0\0\0\x01\x02", 21);
  EXPECT_TRUE(Inspect(binary, content::FileKind::kUnknown).empty());
  EXPECT_TRUE(Inspect("4111111111111111", content::FileKind::kEmail).empty());
  EXPECT_TRUE(Inspect("4111111111111111", content::FileKind::kPdf).empty());
}

TEST(DlpDetectorTest, LargeObjectsAreScannedUpToTheLimit) {
  DlpConfig config;
  config.max_scan_bytes = 1024;
  std::string text = "card 4111111111111111 " + std::string(2000, 'a') + " 5555555555554444";
  auto findings = Inspect(text, content::FileKind::kText, config);
  const engine::Finding* pci = FindingNamed(findings, "DLP.PCI-DSS");
  ASSERT_NE(pci, nullptr);
  EXPECT_NE(pci->detail.find("payment-card: 1"), std::string::npos) << pci->detail;
  EXPECT_NE(pci->detail.find("scanned the first 1024 bytes of 2039 bytes"), std::string::npos)
      << pci->detail;
}

// Trigger windows are scanned in batches (a newline between two) and digit chains with the
// database of what they hold: a "+" (the "+…" phone expression) and 12 digits (cards).
// Each window finds what it would alone, whichever database and batch it lands in, at the
// edges of the text too.
TEST(DlpWindowBatchTest, SameMatchesInBatchesAndChainVariants) {
  ExpectFound(Identifier::kPaymentCard, "4111 1111 1111 1111", "4111 1111 1111 1111");
  ExpectFound(Identifier::kPhone, "+1 415 555 0132", "+1 415 555 0132");
  ExpectFound(Identifier::kUsSsn, "457-55-5462", "457-55-5462");
  // A card chain with a "+" (the full database), one without; a phone without a "+" and
  // under 12 digits (neither), one with a "+".
  ExpectFound(Identifier::kPaymentCard, "pay +4111 1111 1111 1111 now", "4111 1111 1111 1111");
  ExpectFound(Identifier::kPhone, "call (415) 555-0132 today", "(415) 555-0132");
  // Eleven digits: no card expression in that window, and none could match.
  ExpectNone(Identifier::kPaymentCard, "n 4111 1111 111 x");
  // Many windows of every kind in one text (several batches): each found once, and no
  // match joins two windows.
  std::string text;
  std::vector<std::string> cards, phones, ssns, ibans, ips;
  for (int i = 0; i < 4000; ++i) {
    text +=
        "card 4111 1111 1111 1111, tel +1 415 555 0132, ssn 457-55-5462, iban "
        "DE89370400440532013000, ip 10.0.0.1 and 2001:db8::8a2e:370:7334. ";
    cards.push_back("4111 1111 1111 1111");
    phones.push_back("+1 415 555 0132");
    ssns.push_back("457-55-5462");
    ibans.push_back("DE89370400440532013000");
    ips.push_back("10.0.0.1");
  }
  text += "4111111111111111";
  cards.push_back("4111111111111111");
  EXPECT_EQ(Found(Identifier::kPaymentCard, text), cards);
  EXPECT_EQ(Found(Identifier::kPhone, text), phones);
  EXPECT_EQ(Found(Identifier::kUsSsn, text), ssns);
  EXPECT_EQ(Found(Identifier::kIban, text), ibans);
  EXPECT_EQ(Found(Identifier::kIpv4, text), ips);
  EXPECT_EQ(Found(Identifier::kIpv6, text).size(), 4000u);
}

}  // namespace
}  // namespace bulwark::detectors::dlp
