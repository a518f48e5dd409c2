#!/usr/bin/env bash
# Installs the Debian 12 packages Bulwark needs, skipping those already present.
#   scripts/install-deps.sh           build and run
#   scripts/install-deps.sh --test    also the test tools (clang/libFuzzer, sanitizer runtimes,
#                                     clamd and clamdscan for the clamd front-end tests,
#                                     node + s3rver for the S3 object store tests)
#                                     — and c-icap-client and Squid for the ICAP tests,
#                                     NSD for the sender-authentication tests,
#                                     Postfix (smtp-sink, a milter host and an MTA in front
#                                     of and behind the gateway), swaks, Dovecot and python3
#                                     for the mail tests;
#                                     --bench adds c-icap with its ClamAV module as ICAP peer
#   scripts/install-deps.sh --bench   also the benchmark peers (clamscan, hyperfine, wrk, zip;
#                                     for bench/smtp_bench.sh Postfix + amavisd-new + clamd:
#                                     postfix, amavisd-new, clamav-daemon — their system
#                                     services are not used: the script runs its own
#                                     instances on loopback ports)
set -euo pipefail

packages=(
  cmake ninja-build g++ pkgconf
  libclamav-dev libyara-dev libgmime-3.0-dev libarchive-dev libmagic-dev libssl-dev
  libqpdf-dev zlib1g-dev libhyperscan-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev libpq-dev libsodium-dev libboost-dev libtomlplusplus-dev
  libidn2-dev libpsl-dev publicsuffix
  libspf2-dev libopendkim-dev libopendmarc-dev
  libicu-dev
)
test_tools=false
for arg in "$@"; do
  case "$arg" in
    --test)
      test_tools=true
      packages+=(clang libclang-rt-14-dev llvm gcab postgresql openssl clamav-daemon clamdscan)
      packages+=(c-icap squid)  # ICAP tests: c-icap-client, Squid as the proxy
      packages+=(nsd libyaml-dev)  # sender authentication: local DNS server; the SPF suite is YAML
      packages+=(postfix swaks dovecot-imapd python3)  # mail front-ends' tests
      # node and npm from Debian only when none is installed (a newer node may be).
      command -v node >/dev/null || packages+=(nodejs)
      command -v npm >/dev/null || packages+=(npm)
      ;;
    --bench)
      packages+=(clamav hyperfine zip wrk c-icap libc-icap-mod-virus-scan)
      packages+=(postfix amavisd-new clamav-daemon)  # the SMTP gateway benchmark's peer
      ;;
    *) echo "install-deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  # Postfix is installed unconfigured: the tests run their own instances on loopback ports,
  # and no system MTA should start listening on port 25.
  echo "postfix postfix/main_mailer_type select No configuration" |
    "${sudo_cmd[@]}" debconf-set-selections
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# The S3-compatible test server (s3rver), pinned in tools/s3/package-lock.json.
if [[ $test_tools == true && ! -d "$(dirname "$0")/../tools/s3/node_modules" ]]; then
  echo "Installing tools/s3 node packages (s3rver)"
  npm ci --prefix "$(dirname "$0")/../tools/s3" --no-audit --no-fund
fi
