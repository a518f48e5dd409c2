#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "http/server.h"

namespace bulwark::http {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bulwark_http_cert_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};

std::unique_ptr<X509, X509Free> LoadCertificate(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return nullptr;
  X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  return std::unique_ptr<X509, X509Free>(certificate);
}

std::set<std::string> SubjectAltNames(X509* certificate) {
  std::set<std::string> out;
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      out.insert("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                      ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const unsigned char* bytes = ASN1_STRING_get0_data(ip);
      char text[64] = {0};
      if (ASN1_STRING_length(ip) == 4) {
        std::snprintf(text, sizeof(text), "%d.%d.%d.%d", bytes[0], bytes[1], bytes[2], bytes[3]);
      } else {
        std::snprintf(text, sizeof(text), "v6:%02x%02x", bytes[14], bytes[15]);
      }
      out.insert("IP:" + std::string(text));
    }
  }
  return out;
}

TEST(SelfSignedCertificateTest, CreatesCertificateAndPrivateKey) {
  TempDir dir;
  std::string certificate_file = dir.path() + "/tls/nested/cert.pem";
  std::string key_file = dir.path() + "/keys/key.pem";
  Status status =
      EnsureSelfSignedCertificate(certificate_file, key_file, {"bulwark.example", "10.1.2.3"});
  ASSERT_TRUE(status.ok()) << status.ToString();

  struct stat key_stat {};
  ASSERT_EQ(::stat(key_file.c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);

  auto certificate = LoadCertificate(certificate_file);
  ASSERT_TRUE(certificate);
  EXPECT_EQ(X509_get_version(certificate.get()), 2);  // v3
  std::set<std::string> names = SubjectAltNames(certificate.get());
  EXPECT_EQ(names, (std::set<std::string>{"DNS:localhost", "IP:127.0.0.1", "IP:v6:0001",
                                          "DNS:bulwark.example", "IP:10.1.2.3"}));
  EXPECT_EQ(X509_check_ca(certificate.get()), 0);
  EXPECT_TRUE(X509_get_extension_flags(certificate.get()) & EXFLAG_BCONS);
  EXPECT_TRUE(X509_get_extended_key_usage(certificate.get()) & XKU_SSL_SERVER);
  EXPECT_TRUE(X509_get_key_usage(certificate.get()) & KU_DIGITAL_SIGNATURE);
  EXPECT_EQ(X509_check_host(certificate.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(certificate.get(), "::1", 0), 1);

  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(certificate.get()),
                           X509_get0_notAfter(certificate.get())),
            1);
  EXPECT_EQ(days, 825);  // plus the hour of clock-skew slack before now

  const ASN1_INTEGER* serial = X509_get0_serialNumber(certificate.get());
  EXPECT_EQ(ASN1_STRING_length(serial), 16);

  EVP_PKEY* public_key = X509_get0_pubkey(certificate.get());
  ASSERT_NE(public_key, nullptr);
  EXPECT_TRUE(EVP_PKEY_is_a(public_key, "EC"));
  EXPECT_EQ(EVP_PKEY_get_bits(public_key), 256);
  EXPECT_EQ(X509_verify(certificate.get(), public_key), 1);  // self-signed

  FILE* file = std::fopen(key_file.c_str(), "r");
  ASSERT_NE(file, nullptr);
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_PrivateKey(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_check_private_key(certificate.get(), key.get()), 1);
}

TEST(SelfSignedCertificateTest, DoesNotOverwriteExistingFiles) {
  TempDir dir;
  std::string certificate_file = dir.path() + "/cert.pem";
  std::string key_file = dir.path() + "/key.pem";
  ASSERT_TRUE(EnsureSelfSignedCertificate(certificate_file, key_file).ok());
  std::string certificate = ReadFile(certificate_file);
  std::string key = ReadFile(key_file);
  ASSERT_TRUE(EnsureSelfSignedCertificate(certificate_file, key_file, {"other.example"}).ok());
  EXPECT_EQ(ReadFile(certificate_file), certificate);
  EXPECT_EQ(ReadFile(key_file), key);

  std::filesystem::remove(certificate_file);
  Status status = EnsureSelfSignedCertificate(certificate_file, key_file);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(key_file), key);
  EXPECT_FALSE(std::filesystem::exists(certificate_file));
}

TEST(SelfSignedCertificateTest, RejectsBadExtraNames) {
  TempDir dir;
  std::string certificate_file = dir.path() + "/cert.pem";
  std::string key_file = dir.path() + "/key.pem";
  Status status = EnsureSelfSignedCertificate(certificate_file, key_file, {"a,DNS:evil"});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(certificate_file));
  EXPECT_FALSE(std::filesystem::exists(key_file));
}

}  // namespace
}  // namespace bulwark::http
