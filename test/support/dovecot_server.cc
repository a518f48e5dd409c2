#include "test/support/dovecot_server.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>

#include "test/support/test_support.h"

namespace bulwark::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kInstallHint[] =
    "run scripts/install-deps.sh --test (it installs dovecot-imapd, openssl and python3), or "
    "apt-get install dovecot-imapd";

// doveadm's exit codes for "no such user" (EX_NOUSER) and "not found", e.g. a mailbox
// (EX_NOHOST, DOVEADM_EX_NOTFOUND in Dovecot's doveadm.h).
constexpr int kDoveadmNoUser = 67;
constexpr int kDoveadmNotFound = 68;

// The introspection endpoint of the oauth2 passdb (RFC 7662 shaped): a known token is
// active and names its user, anything else is inactive. It reads the token from the form
// body (introspection_mode = post, what we configure), the query string (get) or an
// Authorization: Bearer header (auth). It listens on a port the kernel picks and writes
// that port to argv[2] once it is bound. Token lines: "<token>\t<user>".
constexpr char kIntrospectionScript[] = R"PY(
import http.server, json, os, sys, urllib.parse

tokens = {}
with open(sys.argv[1], encoding="utf-8") as lines:
    for line in lines:
        token, _, user = line.rstrip("\n").partition("\t")
        if token:
            tokens[token] = user


class Introspection(http.server.BaseHTTPRequestHandler):
    def token_of(self, body):
        authorization = self.headers.get("Authorization", "")
        if authorization.lower().startswith("bearer "):
            return authorization[7:].strip()
        for source in (body, urllib.parse.urlsplit(self.path).query):
            values = urllib.parse.parse_qs(source).get("token")
            if values:
                return values[0]
        return ""

    def answer(self, body):
        user = tokens.get(self.token_of(body))
        reply = {"active": True, "username": user} if user is not None else {"active": False}
        payload = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self.answer("")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.answer(self.rfile.read(length).decode("latin-1"))


server = http.server.HTTPServer(("127.0.0.1", 0), Introspection)
with open(sys.argv[2] + ".tmp", "w") as port_file:
    port_file.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
)PY";

// `name` in PATH or in the sbin directories (often not in a non-root PATH); "" if absent.
fs::path FindProgram(const std::string& name) {
  std::string dirs = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  dirs += ":/usr/sbin:/usr/local/sbin:/sbin:/usr/bin:/bin";
  std::stringstream list(dirs);
  std::string dir;
  while (std::getline(list, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// `text` as one word for /bin/sh.
std::string Quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string Tail(const std::string& text, std::size_t bytes = 3000) {
  return text.size() > bytes ? "..." + text.substr(text.size() - bytes) : text;
}

bool ValidUserName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("._-+@", c) != nullptr;
  });
}

// Printable ASCII without spaces: safe in the token file and in a SASL exchange.
bool ValidToken(const std::string& token) {
  return !token.empty() && std::all_of(token.begin(), token.end(),
                                       [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

Status SetMode(const fs::path& path, fs::perms perms) {
  std::error_code error;
  fs::permissions(path, perms, error);
  if (error) return InternalError("chmod " + path.string() + ": " + error.message());
  return OkStatus();
}

// Who the mail processes (and, when not root, every Dovecot process) run as.
struct Account {
  std::string user, group;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<Account> MailAccount(bool as_root) {
  Account account;
  const passwd* user = as_root ? ::getpwnam("nobody") : ::getpwuid(::geteuid());
  if (user == nullptr) {
    return UnavailableError(as_root ? "running as root and there is no `nobody` user"
                                    : "the current uid " + std::to_string(::geteuid()) +
                                          " has no passwd entry (Dovecot needs a user name)");
  }
  account.user = user->pw_name;
  account.uid = user->pw_uid;
  const group* grp = as_root ? ::getgrnam("nogroup") : ::getgrgid(::getegid());
  if (grp == nullptr) {
    return UnavailableError(as_root ? "running as root and there is no `nogroup` group"
                                    : "the current gid " + std::to_string(::getegid()) +
                                          " has no group entry (Dovecot needs a group name)");
  }
  account.group = grp->gr_name;
  account.gid = grp->gr_gid;
  return account;
}

// dovecot.conf for one instance. Every path is inside `root`; nothing is included from
// /etc/dovecot. `as_root` picks Dovecot's packaged users for its own processes; otherwise
// they all run as the current user (`mail`).
std::string Config(const fs::path& root, bool as_root, const Account& mail, std::uint16_t imap_port,
                   std::uint16_t imaps_port, const std::string& oauth2_config) {
  const std::string r = root.string();
  std::ostringstream c;
  c << "# Generated by test/support/dovecot_server.cc for one test run.\n"
    << "# Sockets and the pid file, persistent state, and the log: all in the scratch dir.\n"
    << "base_dir = " << r << "/run\n"
    << "state_dir = " << r << "/state\n"
    << "log_path = " << r << "/dovecot.log\n"
    << "instance_name = bulwark-test\n"
    << "# Log why an authentication failed (never the password).\n"
    << "auth_verbose = yes\n"
    << "\n# IMAP only, on loopback only (the listeners are in service imap-login below).\n"
    << "protocols = imap\n"
    << "listen = 127.0.0.1\n"
    << "\n# TLS with the certificate made for this run; STARTTLS on the plain port, and\n"
    << "# plaintext authentication allowed there too (clients under test may use either).\n"
    << "ssl = yes\n"
    << "ssl_cert = <" << r << "/tls/cert.pem\n"
    << "ssl_key = <" << r << "/tls/key.pem\n"
    << "disable_plaintext_auth = no\n"
    << "auth_mechanisms = plain login" << (oauth2_config.empty() ? "" : " xoauth2 oauthbearer")
    << "\n"
    << "# A failed login is answered at the auth process's next 500 ms tick (the default\n"
    << "# waits 2 s), and repeated failures are not slowed down further (anvil-auth-penalty\n"
    << "# is disabled below).\n"
    << "auth_failure_delay = 0\n";
  if (as_root) {
    c << "\n# Dovecot's own processes run as the users of the Debian package.\n"
      << "default_internal_user = dovecot\n"
      << "default_internal_group = dovecot\n"
      << "default_login_user = dovenull\n";
  } else {
    c << "\n# Not root: every process runs as the current user.\n"
      << "default_internal_user = " << mail.user << "\n"
      << "default_internal_group = " << mail.group << "\n"
      << "default_login_user = " << mail.user << "\n";
  }
  c << "# Mail processes may run as exactly the mail account (" << mail.user << ":" << mail.group
    << ").\n"
    << "first_valid_uid = " << mail.uid << "\n"
    << "last_valid_uid = " << mail.uid << "\n"
    << "first_valid_gid = " << mail.gid << "\n"
    << "last_valid_gid = " << mail.gid << "\n"
    << "\n# Maildir per user; mail stored with CRLF line ends, as IMAP serves it, so that\n"
    << "# what doveadm fetch returns is what an IMAP client would get. No fsync: scratch data.\n"
    << "mail_location = maildir:" << r << "/mail/%u\n"
    << "mail_save_crlf = yes\n"
    << "mail_fsync = never\n"
    << "# One namespace, '/' between levels (\"Archive/2024\"), the inbox is INBOX.\n"
    << "namespace inbox {\n"
    << "  inbox = yes\n"
    << "  separator = /\n"
    << "}\n"
    << "\n# The two listeners. No chroot anywhere, so that the same configuration also runs\n"
    << "# without root (chroot needs root; it protects nothing in a test).\n"
    << "service imap-login {\n"
    << "  chroot =\n"
    << "  inet_listener imap {\n"
    << "    address = 127.0.0.1\n"
    << "    port = " << imap_port << "\n"
    << "  }\n"
    << "  inet_listener imaps {\n"
    << "    address = 127.0.0.1\n"
    << "    port = " << imaps_port << "\n"
    << "    ssl = yes\n"
    << "  }\n"
    << "}\n"
    << "service anvil {\n"
    << "  chroot =\n"
    << "  unix_listener anvil-auth-penalty {\n"
    << "    mode = 0\n"
    << "  }\n"
    << "}\n"
    << "service ipc {\n"
    << "  chroot =\n"
    << "}\n"
    << "service old-stats {\n"
    << "  chroot =\n"
    << "}\n"
    << "\n# Users and passwords (scheme PLAIN) and, in the same file, each user's uid, gid\n"
    << "# and home, so that an unknown user is unknown to doveadm as well.\n"
    << "passdb {\n"
    << "  driver = passwd-file\n"
    << "  mechanisms = plain login\n"
    << "  args = scheme=PLAIN username_format=%u " << r << "/users\n"
    << "}\n"
    << "userdb {\n"
    << "  driver = passwd-file\n"
    << "  args = username_format=%u " << r << "/users\n"
    << "}\n";
  if (!oauth2_config.empty()) {
    c << "# Bearer tokens (XOAUTH2, OAUTHBEARER), checked by the introspection endpoint.\n"
      << "passdb {\n"
      << "  driver = oauth2\n"
      << "  mechanisms = xoauth2 oauthbearer\n"
      << "  args = " << oauth2_config << "\n"
      << "}\n";
  }
  return c.str();
}

}  // namespace

Result<std::unique_ptr<DovecotServer>> DovecotServer::Start(const DovecotOptions& options) {
  std::unique_ptr<DovecotServer> server(new DovecotServer());
  server->dovecot_ = FindProgram("dovecot");
  server->doveadm_ = FindProgram("doveadm");
  if (server->dovecot_.empty() || server->doveadm_.empty()) {
    return UnavailableError(std::string("Dovecot is not installed (no dovecot or doveadm): ") +
                            kInstallHint);
  }
  if (!HaveProgram("openssl")) {
    return UnavailableError(std::string("openssl is not installed: ") + kInstallHint);
  }
  fs::path python;
  if (!options.oauth_tokens.empty()) {
    python = FindProgram("python3");
    if (python.empty()) {
      return UnavailableError(std::string("python3 (the OAuth2 introspection endpoint) is not "
                                          "installed: ") +
                              kInstallHint);
    }
  }

  // What the generated files cannot carry is refused here, not misread later.
  std::vector<std::string> names;
  for (const DovecotUser& user : options.users) {
    if (!ValidUserName(user.name)) return InvalidArgumentError("bad user name: " + user.name);
    if (user.password.find_first_of(":\r\n") != std::string::npos) {
      return InvalidArgumentError("the password of " + user.name + " has ':', CR or LF");
    }
    names.push_back(user.name);
  }
  for (const auto& [token, user] : options.oauth_tokens) {
    if (!ValidToken(token)) return InvalidArgumentError("bad token for " + user);
    if (std::find(names.begin(), names.end(), user) == names.end()) {
      return InvalidArgumentError("token user " + user + " must be one of the users");
    }
  }

  server->as_root_ = ::geteuid() == 0;
  BULWARK_ASSIGN_OR_RETURN(Account mail, MailAccount(server->as_root_));
  server->scratch_ = std::make_unique<ScratchDir>();
  const fs::path root = server->scratch_->path();
  // mkdtemp made it 0700; Dovecot's unprivileged processes (auth reads the users file,
  // mail processes open the maildirs) must pass through it.
  BULWARK_RETURN_IF_ERROR(SetMode(root, fs::perms(0755)));
  std::error_code error;
  for (const char* dir : {"mail", "state", "tls", "doveadm"}) {
    fs::create_directories(root / dir, error);
    if (error) return InternalError("mkdir " + (root / dir).string() + ": " + error.message());
  }
  if (server->as_root_ && ::chown((root / "mail").c_str(), mail.uid, mail.gid) != 0) {
    return InternalError("chown " + (root / "mail").string() + ": " + std::strerror(errno));
  }

  // The passwd-file, for passdb and userdb: name:{PLAIN}password:uid:gid::home::
  std::string users;
  for (const DovecotUser& user : options.users) {
    users += user.name + ":{PLAIN}" + user.password + ":" + std::to_string(mail.uid) + ":" +
             std::to_string(mail.gid) + "::" + (root / "mail" / user.name).string() + "::\n";
  }
  BULWARK_RETURN_IF_ERROR(SetMode(server->scratch_->Write("users", users), fs::perms(0644)));

  // A self-signed certificate for localhost and 127.0.0.1 (EC P-256: made in milliseconds).
  const std::string key = Quote((root / "tls/key.pem").string());
  const std::string cert = Quote((root / "tls/cert.pem").string());
  const CommandResult tls = RunShell(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30"
      " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
          key + " -out " + cert,
      root / "tls");
  if (tls.exit_code != 0) return InternalError("openssl req failed: " + tls.err);
  BULWARK_RETURN_IF_ERROR(SetMode(root / "tls/cert.pem", fs::perms(0644)));

  if (!options.oauth_tokens.empty()) {
    std::string tokens;
    for (const auto& [token, user] : options.oauth_tokens) tokens += token + "\t" + user + "\n";
    const fs::path token_file = server->scratch_->Write("oauth/tokens", tokens);
    const fs::path script = server->scratch_->Write("oauth/introspect.py", kIntrospectionScript);
    const fs::path port_file = root / "oauth/port";
    server->introspection_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{python.string(), "-u", script.string(), token_file.string(),
                                 port_file.string()},
        root / "oauth/introspect.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!fs::exists(port_file, error) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int port = std::atoi(ReadAll(port_file).c_str());
    if (port <= 0) {
      return InternalError("the OAuth2 introspection endpoint did not start:\n" +
                           Tail(ReadAll(root / "oauth/introspect.log")));
    }
    // The oauth2 passdb's settings: ask the endpoint (POST token=...) and require
    // "active": true; the reply's "username" must be the user of the SASL exchange.
    server->oauth2_config_ = (root / "oauth/dovecot-oauth2.conf.ext").string();
    std::string settings = "introspection_mode = post\n";
    settings += "introspection_url = http://127.0.0.1:" + std::to_string(port) + "/introspect\n";
    settings += "username_attribute = username\n";
    settings += "active_attribute = active\n";
    settings += "active_value = true\n";
    server->scratch_->Write("oauth/dovecot-oauth2.conf.ext", settings);
    BULWARK_RETURN_IF_ERROR(SetMode(root / "oauth", fs::perms(0755)));
    BULWARK_RETURN_IF_ERROR(SetMode(server->oauth2_config_, fs::perms(0644)));
  }

  // The ports come from FreePort() and may be taken before Dovecot binds them: retry.
  Status launched;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->imap_port_ = FreePort();
    do {
      server->imaps_port_ = FreePort();
    } while (server->imaps_port_ == server->imap_port_);
    const std::string config = Config(root, server->as_root_, mail, server->imap_port_,
                                      server->imaps_port_, server->oauth2_config_);
    BULWARK_RETURN_IF_ERROR(
        SetMode(server->scratch_->Write("dovecot.conf", config), fs::perms(0644)));
    launched = server->Launch();
    if (launched.ok()) return server;
    if (launched.message().find("Address already in use") == std::string::npos) break;
  }
  return launched;
}

Status DovecotServer::Launch() {
  const fs::path root = scratch_->path();
  dovecot_process_.reset();  // a previous attempt's master, if any
  const std::size_t log_start = ReadAll(root / "dovecot.log").size();
  dovecot_process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{dovecot_.string(), "-F", "-c", (root / "dovecot.conf").string()},
      root / "dovecot.out");
  if (!dovecot_process_->running()) return InternalError("cannot run " + dovecot_.string());

  // The master logs "starting up" once its listeners are bound; a Fatal line (bad config,
  // port taken) means it has given up.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    const std::string log = ReadAll(root / "dovecot.log");
    const std::string fresh = log.size() >= log_start ? log.substr(log_start) : log;
    const std::string out = ReadAll(root / "dovecot.out");
    if (fresh.find("Fatal:") != std::string::npos || out.find("Fatal:") != std::string::npos) {
      return InternalError("dovecot did not start:\n" + Tail(out + fresh));
    }
    if (fresh.find("starting up") != std::string::npos) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return InternalError("dovecot did not start within 30 s:\n" + Tail(out + fresh));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!WaitForPort(imap_port_, std::chrono::seconds(10)) ||
      !WaitForPort(imaps_port_, std::chrono::seconds(10))) {
    return InternalError(
        "dovecot does not accept connections on 127.0.0.1:" + std::to_string(imap_port_) +
        " and :" + std::to_string(imaps_port_) + ":\n" + Tail(log_text()));
  }
  return OkStatus();
}

DovecotServer::~DovecotServer() = default;

std::string DovecotServer::ca_file() const { return (scratch_->path() / "tls/cert.pem").string(); }

std::string DovecotServer::log_text() const {
  return ReadAll(scratch_->path() / "dovecot.out") + ReadAll(scratch_->path() / "dovecot.log");
}

Result<std::string> DovecotServer::Doveadm(const std::vector<std::string>& arguments,
                                           const fs::path& input) {
  std::string command =
      Quote(doveadm_.string()) + " -c " + Quote((scratch_->path() / "dovecot.conf").string());
  for (const std::string& argument : arguments) command += " " + Quote(argument);
  command += " < " + (input.empty() ? std::string("/dev/null") : Quote(input.string()));
  const CommandResult run = RunShell(command, scratch_->path() / "doveadm");
  if (run.exit_code == 0) return run.out;
  std::string what = "doveadm";
  for (const std::string& argument : arguments) what += " " + argument;
  what += " exited " + std::to_string(run.exit_code) + ": " + Tail(run.err, 1000);
  if (run.exit_code == kDoveadmNoUser || run.exit_code == kDoveadmNotFound) {
    return NotFoundError(what);
  }
  return InternalError(what);
}

Status DovecotServer::Deliver(const std::string& user, const std::string& folder,
                              const std::string& message) {
  const fs::path file = scratch_->Write("doveadm/message", message);
  const std::vector<std::string> save = {"save", "-u", user, "-m", folder};
  Result<std::string> saved = Doveadm(save, file);
  if (saved.status().code() == StatusCode::kNotFound) {
    // The folder (or the user) is missing: create the folder (fails for an unknown user).
    BULWARK_RETURN_IF_ERROR(Doveadm({"mailbox", "create", "-u", user, folder}).status());
    saved = Doveadm(save, file);
  }
  return saved.status();
}

Result<std::vector<DovecotServer::StoredMessage>> DovecotServer::Messages(
    const std::string& user, const std::string& folder) {
  // Existence first: a search in a missing folder would just find nothing.
  BULWARK_RETURN_IF_ERROR(UidValidity(user, folder).status());

  // UIDs and flags, one tab-separated line per message after a header line. Neither can
  // hold a tab or a newline, so this format is unambiguous for them (not for the text).
  BULWARK_ASSIGN_OR_RETURN(std::string listing, Doveadm({"-f", "tab", "fetch", "-u", user,
                                                         "uid flags", "mailbox", folder}));
  std::vector<StoredMessage> messages;
  std::istringstream lines(listing);
  std::string line;
  bool header = true;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if (header) {
      header = false;
      if (line != "uid\tflags") return InternalError("unexpected doveadm fetch header: " + line);
      continue;
    }
    const std::size_t tab = line.find('\t');
    StoredMessage message;
    char* end = nullptr;
    const unsigned long uid = std::strtoul(line.c_str(), &end, 10);
    if (tab == std::string::npos || end != line.c_str() + tab || uid == 0 || uid > 0xffffffffUL) {
      return InternalError("unexpected doveadm fetch line: " + line);
    }
    message.uid = static_cast<std::uint32_t>(uid);
    std::istringstream flags(line.substr(tab + 1));
    std::string flag;
    while (flags >> flag) {
      if (flag != "\\Recent") message.flags.push_back(flag);
    }
    messages.push_back(std::move(message));
  }
  std::sort(messages.begin(), messages.end(),
            [](const StoredMessage& a, const StoredMessage& b) { return a.uid < b.uid; });

  // Each text on its own: with one field of one message, doveadm's default (pager) output
  // is "text:\n" and then the raw bytes, with nothing after them.
  constexpr std::string_view kTextPrefix = "text:\n";
  for (StoredMessage& message : messages) {
    BULWARK_ASSIGN_OR_RETURN(std::string text,
                             Doveadm({"fetch", "-u", user, "text", "mailbox", folder, "uid",
                                      std::to_string(message.uid)}));
    if (text.compare(0, kTextPrefix.size(), kTextPrefix) != 0) {
      return InternalError("unexpected doveadm fetch text output for UID " +
                           std::to_string(message.uid) + ": " + Tail(text, 200));
    }
    message.text = text.substr(kTextPrefix.size());
  }
  return messages;
}

Result<std::uint32_t> DovecotServer::UidValidity(const std::string& user,
                                                 const std::string& folder) {
  BULWARK_ASSIGN_OR_RETURN(std::string status, Doveadm({"-f", "tab", "mailbox", "status", "-u",
                                                        user, "uidvalidity", folder}));
  // "mailbox\tuidvalidity\n<folder>\t<number>\n"
  std::istringstream lines(status);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  const std::size_t tab = row.rfind('\t');
  const std::string value = tab == std::string::npos ? "" : row.substr(tab + 1);
  char* end = nullptr;
  const unsigned long uid_validity = std::strtoul(value.c_str(), &end, 10);
  if (header != "mailbox\tuidvalidity" || value.empty() || *end != '\0' || uid_validity == 0 ||
      uid_validity > 0xffffffffUL) {
    return InternalError("unexpected doveadm mailbox status output: " + Tail(status, 200));
  }
  return static_cast<std::uint32_t>(uid_validity);
}

Status DovecotServer::SetUidValidity(const std::string& user, const std::string& folder,
                                     std::uint32_t uid_validity) {
  return Doveadm({"mailbox", "update", "-u", user, "--uid-validity", std::to_string(uid_validity),
                  folder})
      .status();
}

}  // namespace bulwark::testing
