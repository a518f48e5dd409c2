#pragma once
// Test helpers: DKIM key pairs made with OpenSSL and messages signed with libopendkim.

#include <string>
#include <string_view>

namespace bulwark::senderauth::testing {

struct DkimKey {
  std::string private_pem;  // PKCS#8 PEM
  std::string dns_record;   // "v=DKIM1; k=rsa; p=…" (or k=ed25519)
  bool ed25519 = false;
};

// A fresh RSA-2048 or Ed25519 key pair.
DkimKey MakeRsaKey();
DkimKey MakeEd25519Key();

// `message` (CR LF line ends) with a DKIM-Signature field for d=`domain` s=`selector`
// prepended (relaxed/relaxed, From To Subject Date Message-ID signed). Empty on failure.
std::string SignMessage(std::string_view message, const DkimKey& key, std::string_view domain,
                        std::string_view selector);

}  // namespace bulwark::senderauth::testing
