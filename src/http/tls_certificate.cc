// EnsureSelfSignedCertificate (OpenSSL 3).

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "http/server.h"

namespace bulwark::http {
namespace {

template <typename T, void (*kFree)(T*)>
struct OpenSslDeleter {
  void operator()(T* pointer) const { kFree(pointer); }
};
template <typename T, void (*kFree)(T*)>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter<T, kFree>>;

using PkeyPtr = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = OpenSslPtr<X509, X509_free>;
using BioPtr = OpenSslPtr<BIO, BIO_free_all>;
using BignumPtr = OpenSslPtr<BIGNUM, BN_free>;
using GeneralNamesPtr = OpenSslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using GeneralNamePtr = OpenSslPtr<GENERAL_NAME, GENERAL_NAME_free>;
using ExtensionPtr = OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using AsnOctetPtr = OpenSslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using Ia5Ptr = OpenSslPtr<ASN1_IA5STRING, ASN1_IA5STRING_free>;

constexpr long kValiditySeconds = 825L * 24 * 60 * 60;

Status OpenSslError(std::string_view what) {
  std::string message(what);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    message += ": ";
    message += buffer;
  }
  ERR_clear_error();
  return InternalError(std::move(message));
}

bool IsDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '*';
    if (!ok) return false;
  }
  return true;
}

Status AddName(GENERAL_NAMES* names, std::string_view name) {
  GeneralNamePtr general(GENERAL_NAME_new());
  if (!general) return OpenSslError("GENERAL_NAME_new");
  std::string text(name);
  AsnOctetPtr ip(a2i_IPADDRESS(text.c_str()));
  ERR_clear_error();  // a2i_IPADDRESS leaves an error for a non-address
  if (ip) {
    GENERAL_NAME_set0_value(general.get(), GEN_IPADD, ip.release());
  } else {
    if (!IsDnsName(name)) {
      return InvalidArgumentError("certificate name is neither an IP address nor a DNS name: " +
                                  text);
    }
    Ia5Ptr dns(ASN1_IA5STRING_new());
    if (!dns || ASN1_STRING_set(dns.get(), text.data(), static_cast<int>(text.size())) != 1) {
      return OpenSslError("ASN1_STRING_set");
    }
    GENERAL_NAME_set0_value(general.get(), GEN_DNS, dns.release());
  }
  if (sk_GENERAL_NAME_push(names, general.get()) == 0) return OpenSslError("push name");
  general.release();
  return OkStatus();
}

Status AddExtension(X509* certificate, X509V3_CTX* context, int nid, const char* value) {
  ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, context, nid, value));
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return OpenSslError("certificate extension");
  }
  return OkStatus();
}

Result<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  if (size < 0 || data == nullptr) return OpenSslError("BIO_get_mem_data");
  return std::string(data, static_cast<std::size_t>(size));
}

// Creates `path` exclusively with `mode` and writes `contents`; removes it on failure.
Status WriteNewFile(const std::string& path, std::string_view contents, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    int error = errno;
    std::string message = "cannot create " + path + ": " + std::strerror(error);
    if (error == EACCES || error == EPERM) return PermissionDeniedError(std::move(message));
    if (error == EEXIST) return FailedPreconditionError(std::move(message));
    return InternalError(std::move(message));
  }
  Status status;
  if (::fchmod(fd, mode) != 0) status = InternalError("fchmod " + path);
  std::size_t written = 0;
  while (status.ok() && written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = InternalError("cannot write " + path + ": " + std::strerror(errno));
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  if (status.ok() && ::fsync(fd) != 0) status = InternalError("fsync " + path);
  if (::close(fd) != 0 && status.ok()) status = InternalError("close " + path);
  if (!status.ok()) ::unlink(path.c_str());
  return status;
}

Status CreateParent(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return InternalError("cannot create directory " + parent.string() + ": " + ec.message());
  return OkStatus();
}

struct Generated {
  std::string certificate_pem;
  std::string key_pem;
};

Result<Generated> Generate(const std::vector<std::string>& extra_names) {
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslError("sk_GENERAL_NAME_new_null");
  for (std::string_view name : {"localhost", "127.0.0.1", "::1"}) {
    BULWARK_RETURN_IF_ERROR(AddName(names.get(), name));
  }
  for (const std::string& name : extra_names) BULWARK_RETURN_IF_ERROR(AddName(names.get(), name));

  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("EVP_EC_gen");
  X509Ptr certificate(X509_new());
  if (!certificate) return OpenSslError("X509_new");
  if (X509_set_version(certificate.get(), 2) != 1) return OpenSslError("X509_set_version");

  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return OpenSslError("RAND_bytes");
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // and a full 16 bytes long
  BignumPtr serial_number(BN_bin2bn(serial, sizeof(serial), nullptr));
  if (!serial_number || BN_to_ASN1_INTEGER(serial_number.get(),
                                           X509_get_serialNumber(certificate.get())) == nullptr) {
    return OpenSslError("serial number");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -60 * 60) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(certificate.get()), kValiditySeconds) == nullptr) {
    return OpenSslError("validity");
  }
  X509_NAME* subject = X509_get_subject_name(certificate.get());
  const auto* organization = reinterpret_cast<const unsigned char*>("Bulwark");
  const auto* common_name = reinterpret_cast<const unsigned char*>("localhost");
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, organization, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, common_name, -1, -1, 0) != 1 ||
      X509_set_issuer_name(certificate.get(), subject) != 1 ||
      X509_set_pubkey(certificate.get(), key.get()) != 1) {
    return OpenSslError("subject");
  }

  X509V3_CTX context;
  X509V3_set_ctx(&context, certificate.get(), certificate.get(), nullptr, nullptr, 0);
  BULWARK_RETURN_IF_ERROR(
      AddExtension(certificate.get(), &context, NID_basic_constraints, "critical,CA:FALSE"));
  BULWARK_RETURN_IF_ERROR(AddExtension(certificate.get(), &context, NID_key_usage,
                                       "critical,digitalSignature,keyAgreement"));
  BULWARK_RETURN_IF_ERROR(
      AddExtension(certificate.get(), &context, NID_ext_key_usage, "serverAuth"));
  BULWARK_RETURN_IF_ERROR(
      AddExtension(certificate.get(), &context, NID_subject_key_identifier, "hash"));
  if (X509_add1_ext_i2d(certificate.get(), NID_subject_alt_name, names.get(), 0,
                        X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError("subjectAltName");
  }
  if (X509_sign(certificate.get(), key.get(), EVP_sha256()) <= 0) return OpenSslError("X509_sign");

  Generated generated;
  BioPtr certificate_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!certificate_bio || !key_bio ||
      PEM_write_bio_X509(certificate_bio.get(), certificate.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return OpenSslError("PEM encoding");
  }
  BULWARK_ASSIGN_OR_RETURN(generated.certificate_pem, BioContents(certificate_bio.get()));
  BULWARK_ASSIGN_OR_RETURN(generated.key_pem, BioContents(key_bio.get()));
  return generated;
}

}  // namespace

Status EnsureSelfSignedCertificate(const std::string& certificate_file,
                                   const std::string& private_key_file,
                                   const std::vector<std::string>& extra_names) {
  std::error_code ec;
  bool have_certificate = std::filesystem::exists(certificate_file, ec);
  bool have_key = std::filesystem::exists(private_key_file, ec);
  if (have_certificate && have_key) return OkStatus();
  if (have_certificate || have_key) {
    return FailedPreconditionError("only one of " + certificate_file + " and " + private_key_file +
                                   " exists; remove it or supply both");
  }
  BULWARK_ASSIGN_OR_RETURN(Generated generated, Generate(extra_names));
  BULWARK_RETURN_IF_ERROR(CreateParent(private_key_file));
  BULWARK_RETURN_IF_ERROR(CreateParent(certificate_file));
  BULWARK_RETURN_IF_ERROR(WriteNewFile(private_key_file, generated.key_pem, 0600));
  Status status = WriteNewFile(certificate_file, generated.certificate_pem, 0644);
  if (!status.ok()) ::unlink(private_key_file.c_str());
  return status;
}

}  // namespace bulwark::http
