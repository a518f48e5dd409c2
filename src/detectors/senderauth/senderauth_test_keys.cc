#include "detectors/senderauth/senderauth_test_keys.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#define _Bool bool
extern "C" {
#include <opendkim/dkim.h>
}
#undef _Bool

namespace bulwark::senderauth::testing {
namespace {

std::string Base64(const unsigned char* data, std::size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data,
                                static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string PrivatePem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return pem;
}

}  // namespace

DkimKey MakeRsaKey() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  DkimKey out;
  out.private_pem = PrivatePem(key);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  out.dns_record = "v=DKIM1; k=rsa; p=" + Base64(der, static_cast<std::size_t>(len));
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  return out;
}

DkimKey MakeEd25519Key() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  DkimKey out;
  out.ed25519 = true;
  out.private_pem = PrivatePem(key);
  unsigned char raw[32];
  std::size_t len = sizeof raw;
  EVP_PKEY_get_raw_public_key(key, raw, &len);
  out.dns_record = "v=DKIM1; k=ed25519; p=" + Base64(raw, len);
  EVP_PKEY_free(key);
  return out;
}

namespace {

std::string SignHere(std::string_view message, const DkimKey& key, std::string_view domain,
                     std::string_view selector) {
  DKIM_LIB* lib = dkim_init(nullptr, nullptr);
  if (lib == nullptr) return "";
  const std::string d(domain), s(selector);
  DKIM_STAT status = DKIM_STAT_OK;
  std::string pem = key.private_pem;
  DKIM* dkim = dkim_sign(lib, reinterpret_cast<const u_char*>("test"), nullptr,
                         reinterpret_cast<u_char*>(pem.data()),
                         reinterpret_cast<const u_char*>(s.c_str()),
                         reinterpret_cast<const u_char*>(d.c_str()), DKIM_CANON_RELAXED,
                         DKIM_CANON_RELAXED,
                         key.ed25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1,
                         &status);
  std::string out;
  if (dkim != nullptr) {
    std::string copy(message);
    status = dkim_chunk(dkim, reinterpret_cast<u_char*>(copy.data()), copy.size());
    if (status == DKIM_STAT_OK) status = dkim_chunk(dkim, nullptr, 0);
    if (status == DKIM_STAT_OK) status = dkim_eom(dkim, nullptr);
    std::vector<unsigned char> header(8192);
    if (status == DKIM_STAT_OK &&
        dkim_getsighdr(dkim, header.data(), header.size(), sizeof("DKIM-Signature: ") - 1) ==
            DKIM_STAT_OK) {
      out = std::string("DKIM-Signature: ") + reinterpret_cast<const char*>(header.data()) +
            "\r\n" + copy;
    }
    dkim_free(dkim);
  }
  dkim_close(lib);
  return out;
}

}  // namespace

// Signs in a child process that leaves with _exit: libopendkim 2.11 leaks the Ed25519 key it
// loads for signing (dkim_privkey_load), which LeakSanitizer would report for the test
// binary. Bulwark itself never signs; only these tests do.
std::string SignMessage(std::string_view message, const DkimKey& key, std::string_view domain,
                        std::string_view selector) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  const pid_t pid = fork();
  if (pid < 0) return "";
  if (pid == 0) {
    close(fds[0]);
    const std::string signed_message = SignHere(message, key, domain, selector);
    std::size_t at = 0;
    while (at < signed_message.size()) {
      const ssize_t n = write(fds[1], signed_message.data() + at, signed_message.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    _exit(at == signed_message.size() ? 0 : 1);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : "";
}

}  // namespace bulwark::senderauth::testing
