#include "detectors/phishing/phishing_score.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <set>

#include "bulwark/common/text.h"
#include "detectors/common/markup_text.h"
#include "detectors/phishing/word_set.h"
#include "detectors/urls/url.h"
#include "detectors/urls/url_heuristics.h"
#include "mime/gmime_support.h"

namespace bulwark::phishing {
namespace {

// ---------------------------------------------------------------------------------------
// Word lists. They describe kinds of mail (brands people are lured with, vocabulary of
// account threats and prizes), not any sender, domain or subject of a test corpus.

// Brands most often impersonated in phishing (public brand-phishing reports of APWG,
// Check Point and others), each with the registrable domains it really sends from.
struct Brand {
  std::string_view name;  // lower-case, matched as a whole word in names and subjects
  std::vector<std::string_view> domains;
};

const std::vector<Brand>& Brands() {
  static const std::vector<Brand> brands = {
      {"microsoft",
       {"microsoft.com", "live.com", "outlook.com", "office.com", "office365.com",
        "microsoftonline.com", "hotmail.com", "xbox.com", "skype.com"}},
      {"office 365", {"microsoft.com", "office.com", "office365.com"}},
      {"outlook", {"microsoft.com", "outlook.com", "live.com"}},
      {"onedrive", {"microsoft.com", "live.com"}},
      {"sharepoint", {"microsoft.com", "sharepoint.com"}},
      {"google", {"google.com", "gmail.com", "youtube.com", "googlemail.com"}},
      {"gmail", {"google.com", "gmail.com"}},
      {"apple", {"apple.com", "icloud.com", "me.com"}},
      {"icloud", {"apple.com", "icloud.com"}},
      {"itunes", {"apple.com"}},
      {"amazon",
       {"amazon.com", "amazon.de", "amazon.co.uk", "amazon.fr", "amazon.es", "amazon.it",
        "amazon.com.br", "amazon.nl", "amazon.ca", "amazon.co.jp", "amazonses.com"}},
      {"paypal", {"paypal.com", "paypal.de", "paypal.fr", "paypal.co.uk", "paypal.it"}},
      {"netflix", {"netflix.com"}},
      {"facebook", {"facebook.com", "facebookmail.com", "meta.com"}},
      {"instagram", {"instagram.com", "facebookmail.com"}},
      {"whatsapp", {"whatsapp.com"}},
      {"linkedin", {"linkedin.com"}},
      {"dhl", {"dhl.com", "dhl.de", "dpdhl.com"}},
      {"fedex", {"fedex.com"}},
      {"ups", {"ups.com"}},
      {"usps", {"usps.com"}},
      {"wells fargo", {"wellsfargo.com"}},
      {"chase", {"chase.com", "jpmorgan.com"}},
      {"bank of america", {"bankofamerica.com", "bofa.com"}},
      {"adobe", {"adobe.com"}},
      {"dropbox", {"dropbox.com", "dropboxmail.com"}},
      {"docusign", {"docusign.com", "docusign.net"}},
      {"coinbase", {"coinbase.com"}},
      {"binance", {"binance.com"}},
      {"metamask", {"metamask.io"}},
      {"ledger", {"ledger.com"}},
      {"spotify", {"spotify.com"}},
      {"norton", {"norton.com", "nortonlifelock.com"}},
      {"mcafee", {"mcafee.com"}},
      {"walmart", {"walmart.com"}},
      {"airbnb", {"airbnb.com"}},
      {"yahoo", {"yahoo.com"}},
      {"roblox", {"roblox.com"}},
      {"ebay", {"ebay.com", "ebay.de", "ebay.co.uk"}},
      {"american express", {"americanexpress.com", "aexp.com"}},
      {"mastercard", {"mastercard.com"}},
      {"irs", {"irs.gov"}},
      {"hmrc", {"gov.uk"}},
      {"fbi", {"fbi.gov"}},
      {"disney", {"disney.com", "disneyplus.com"}},
      {"steam", {"steampowered.com", "steamcommunity.com"}},
      {"deutsche bahn", {"bahn.de", "deutschebahn.com"}},
      {"dpd", {"dpd.com", "dpd.de", "dpd.co.uk"}},
      {"postnl", {"postnl.nl"}},
      {"la poste", {"laposte.fr", "laposte.net"}},
      {"royal mail", {"royalmail.com"}},
      {"santander", {"santander.com", "santander.co.uk", "santander.com.br"}},
      {"hsbc", {"hsbc.com", "hsbc.co.uk"}},
      {"sparkasse", {"sparkasse.de"}},
      {"telekom", {"telekom.de", "telekom.com"}},
      {"vodafone", {"vodafone.com", "vodafone.de", "vodafone.co.uk"}},
      {"at&t", {"att.com", "att.net"}},
      {"verizon", {"verizon.com"}},
      {"xfinity", {"xfinity.com", "comcast.net"}},
  };
  return brands;
}

// Vocabulary by kind; a message's words are matched as lower-case substrings. A message
// that uses the vocabulary of several kinds at once reads like a lure.
struct Lexicon {
  std::string_view kind;
  std::vector<std::string_view> words;
};

const std::vector<Lexicon>& Lexicons() {
  static const std::vector<Lexicon> lexicons = {
      {"account",
       {"verify your",    "verification",  "vérifi",       "verifica",      "verifique",
        "verifizier",     "confirm your",  "confirme seu", "confirme sua",  "confirme sus",
        "bestätigen sie", "suspend",       "bloquead",     "bloqueio",      "bloqué",
        "gesperrt",       "sospes",        "geblokkeerd",  "unusual sign",  "unusual activity",
        "unusual login",  "your password", "sua senha",    "tu contraseña", "votre mot de passe",
        "ihr passwort",   "your account",  "sua conta",    "tu cuenta",     "votre compte",
        "ihr konto",      "uw account",    "update your",  "atualize",      "actualice",
        "mettre à jour",  "aktualisieren", "kyc",          "expired",       "expiring",
        "expira",         "vencid",        "abgelaufen",   "verloopt",      "unauthorized",
        "unauthorised",   "não autorizad", "no autorizad", "mailbox",       "storage is full",
        "armazenamento"}},
      {"urgency",
       {"urgent",        "urgente",   "dringend", "immediately", "immédiat",     "sofort",
        "today only",    "hoje",      "heute",    "aujourd'hui", "24 hours",     "24 horas",
        "24 stunden",    "24 heures", "48 hours", "last chance", "last warning", "final notice",
        "final warning", "última",    "letzte",   "dernier",     "act now",      "agora mesmo",
        "jetzt",         "maintenant"}},
      {"reward",
       {"congratulation",  "parabéns",       "felicita",     "glückwunsch", "gefeliciteerd",
        "winner",          "you won",        "you have won", "ganhou",      "ganaste",
        "gewonnen",        "gagné",          "gift card",    "giftcard",    "gutschein",
        "cartão presente", "tarjeta regalo", "carte cadeau", "cadeaukaart", "free",
        "grátis",          "gratis",         "kostenlos",    "gratuit",     "prize",
        "prêmio",          "premio",         "preis",        "prix",        "bonus",
        "bônus",           "spins",          "pontos",       "reward",      "recompensa",
        "belohnung",       "récompense",     "lottery",      "loteria",     "lotterie",
        "inheritance",     "herança",        "donation",     "doação",      "beneficiary",
        "million",         "milhão",         "millones",     "millionen"}},
      {"money", {"bitcoin",       "crypto",         "cripto",           "airdrop",
                 "wallet",        "carteira",       "ethereum",         "usdt",
                 "invoice",       "fatura",         "factura",          "rechnung",
                 "facture",       "refund",         "reembolso",        "rückerstattung",
                 "remboursement", "payment failed", "payment declined", "pagamento pendente",
                 "loan",          "empréstimo",     "préstamo",         "kredit",
                 "investment",    "investimento",   "inversión"}},
      {"delivery", {"package",   "parcel",    "pacote",       "encomenda",   "paquete",
                    "paket",     "colis",     "pakket",       "shipment",    "entrega",
                    "delivery",  "lieferung", "livraison",    "bezorging",   "customs",
                    "alfândega", "alfandeg",  "aduana",       "zoll",        "douane",
                    "tracking",  "rastreio",  "rastreamento", "seguimiento", "sendungsverfolgung"}},
      {"action",
       {"click here", "clique aqui", "haga clic", "klicken sie", "cliquez ici", "klik hier",
        "log in", "login", "sign in", "signin", "acesse", "accede", "anmelden", "connectez",
        "download", "baixar", "descargar", "herunterladen", "télécharger"}},
  };
  return lexicons;
}

// Mail services anyone can send from: a brand or organisation does not.
constexpr std::array<std::string_view, 22> kFreemail = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com",       "yahoo.com",
    "aol.com",   "icloud.com",     "me.com",      "mail.ru",     "yandex.ru",      "gmx.com",
    "gmx.de",    "gmx.net",        "web.de",      "proton.me",   "protonmail.com", "zoho.com",
    "msn.com",   "qq.com",         "163.com",     "uol.com.br"};

// Hosting where anyone can publish a page in minutes under the service's domain: common
// for credential-harvesting pages, rare as the link target of business mail.
constexpr std::array<std::string_view, 38> kFreeHosting = {"firebaseapp.com",
                                                           "web.app",
                                                           "weebly.com",
                                                           "wixsite.com",
                                                           "000webhostapp.com",
                                                           "r2.dev",
                                                           "github.io",
                                                           "glitch.me",
                                                           "pages.dev",
                                                           "workers.dev",
                                                           "azurewebsites.net",
                                                           "ngrok.io",
                                                           "ngrok-free.app",
                                                           "herokuapp.com",
                                                           "netlify.app",
                                                           "vercel.app",
                                                           "webflow.io",
                                                           "godaddysites.com",
                                                           "canva.site",
                                                           "notion.site",
                                                           "sites.google.com",
                                                           "forms.gle",
                                                           "storage.googleapis.com",
                                                           "firebasestorage.googleapis.com",
                                                           "blogspot.com",
                                                           "linktr.ee",
                                                           "duckdns.org",
                                                           "repl.co",
                                                           "surge.sh",
                                                           "square.site",
                                                           "mystrikingly.com",
                                                           "jimdosite.com",
                                                           "yolasite.com",
                                                           "backblazeb2.com",
                                                           "digitaloceanspaces.com",
                                                           "onrender.com",
                                                           "fly.dev",
                                                           "trycloudflare.com"};

// Top-level domains that abuse reports (Spamhaus, Interisle) list as the most abused in
// proportion to their size.
constexpr std::array<std::string_view, 30> kAbusedTlds = {
    "xyz",  "top", "shop", "click", "online", "site",    "live",    "icu",    "buzz",    "cyou",
    "rest", "sbs", "cfd",  "store", "club",   "vip",     "monster", "work",   "support", "tk",
    "ml",   "ga",  "cf",   "gq",    "pw",     "website", "fun",     "beauty", "hair",    "autos"};

// ---------------------------------------------------------------------------------------
// Message access through GMime.

using mime::GCharPtr;

struct Mailbox {
  std::string name;     // decoded display name
  std::string address;  // as written, lower-cased
};

std::vector<Mailbox> Mailboxes(InternetAddressList* list) {
  std::vector<Mailbox> out;
  if (list == nullptr) return out;
  const int count = internet_address_list_length(list);
  for (int i = 0; i < count && out.size() < 50; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      const char* name = internet_address_get_name(address);
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
      out.push_back({name ? name : "", AsciiLower(addr ? addr : "")});
    } else if (INTERNET_ADDRESS_IS_GROUP(address)) {
      const char* name = internet_address_get_name(address);
      out.push_back({name ? name : "", ""});
    }
  }
  return out;
}

// What the scorer reads of a message.
struct MessageFacts {
  std::string raw_from_case;  // the From field as written
  std::string raw_from;       // the same, lower-case
  std::vector<Mailbox> from, to, reply_to;
  std::string subject;       // decoded, lower-case
  std::string subject_case;  // decoded
  bool has_date = false;
  bool date_unreadable = false;         // a Date field GMime cannot read
  bool message_id_malformed = false;    // a Message-ID field that is empty or has no '@'
  bool is_reply = false;                // In-Reply-To or References present
  bool list_unsubscribe = false;        // a List-Unsubscribe field (RFC 2369)
  std::string text;                     // visible text of the text parts, lower-case, bounded
  std::vector<std::string> link_hosts;  // hosts of the message's links
  bool password_input = false;          // an <input type="password"> in an HTML part
};

constexpr std::size_t kMaxText = 64 * 1024;

void CollectText(GMimeObject* part, MessageFacts& facts, int depth) {
  if (depth > 32 || facts.text.size() >= kMaxText) return;
  if (GMIME_IS_MULTIPART(part)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(part);
    const int count = g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i) {
      CollectText(g_mime_multipart_get_part(multipart, i), facts, depth + 1);
    }
    return;
  }
  if (!GMIME_IS_TEXT_PART(part)) return;
  GMimeContentType* type = g_mime_object_get_content_type(part);
  const bool html = type != nullptr && g_mime_content_type_is_type(type, "text", "html");
  const bool plain = type != nullptr && g_mime_content_type_is_type(type, "text", "plain");
  if (!html && !plain) return;
  GCharPtr text(g_mime_text_part_get_text(GMIME_TEXT_PART(part)));
  if (text == nullptr) return;
  std::string_view content(text.get());
  content = content.substr(0, kMaxText);
  std::string visible;
  if (html) {
    detectors::VisibleText(
        content, detectors::Markup::kHtml, visible, [&](const detectors::MarkupTag& tag) {
          if (tag.name == "input") {
            std::string input_type;
            if (detectors::FindMarkupAttribute(tag.attributes, "type", input_type) &&
                AsciiLower(input_type) == "password") {
              facts.password_input = true;
            }
            return;
          }
          if (facts.link_hosts.size() >= 200) return;
          if (tag.name != "a" && tag.name != "form") return;
          std::string target;
          if (detectors::FindMarkupAttribute(tag.attributes, "href", target) ||
              detectors::FindMarkupAttribute(tag.attributes, "action", target)) {
            if (auto url = urls::ParseUrl(target)) {
              facts.link_hosts.push_back(url->host);
            }
          }
        });
  } else {
    visible.assign(content);
  }
  facts.text += AsciiLower(visible);
  facts.text += ' ';
  if (facts.text.size() > kMaxText) facts.text.resize(kMaxText);
}

std::optional<MessageFacts> ReadMessage(const mime::ParsedMessage& parsed) {
  GMimeMessage* message = parsed.message();
  if (message == nullptr) return std::nullopt;
  MessageFacts facts;
  GMimeObject* object = GMIME_OBJECT(message);
  GMimeHeaderList* headers = g_mime_object_get_header_list(object);
  if (GMimeHeader* from = g_mime_header_list_get_header(headers, "From")) {
    if (const char* value = g_mime_header_get_raw_value(from)) {
      facts.raw_from_case = value;
      facts.raw_from = AsciiLower(value);
    }
  }
  facts.from = Mailboxes(g_mime_message_get_from(message));
  facts.to = Mailboxes(g_mime_message_get_to(message));
  facts.reply_to = Mailboxes(g_mime_message_get_reply_to(message));
  if (const char* subject = g_mime_message_get_subject(message)) {
    facts.subject_case = subject;
    facts.subject = AsciiLower(subject);
  }
  facts.has_date = g_mime_header_list_contains(headers, "Date");
  facts.list_unsubscribe = g_mime_header_list_contains(headers, "List-Unsubscribe");
  if (GMimeHeader* date = g_mime_header_list_get_header(headers, "Date")) {
    // RFC 5322 §3.3: "[day ,] d Mon yyyy hh:mm[:ss] zone". Mail programs write that;
    // "12-12-2023" is written by hand (GMime reads both, so the check is ours).
    const char* value = g_mime_header_get_raw_value(date);
    std::string_view raw = value == nullptr ? "" : value;
    static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const bool month = std::any_of(std::begin(kMonths), std::end(kMonths), [&](std::string_view m) {
      return raw.find(m) != std::string_view::npos;
    });
    facts.date_unreadable = !month || raw.find(':') == std::string_view::npos;
  }
  if (GMimeHeader* id = g_mime_header_list_get_header(headers, "Message-ID")) {
    const char* value = g_mime_header_get_raw_value(id);
    facts.message_id_malformed =
        value == nullptr || std::string_view(value).find('@') == std::string_view::npos;
  }
  facts.is_reply = g_mime_header_list_contains(headers, "In-Reply-To") ||
                   g_mime_header_list_contains(headers, "References");
  if (GMimeObject* body = g_mime_message_get_mime_part(message)) {
    CollectText(body, facts, 0);
  }
  return facts;
}

// ---------------------------------------------------------------------------------------
// Small helpers.

std::string DomainOf(std::string_view address) {
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string domain = AsciiLower(address.substr(at + 1));
  while (!domain.empty() &&
         (domain.back() == '.' || domain.back() == '>' || domain.back() == ' ')) {
    domain.pop_back();
  }
  return domain;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// `word` occurs in `text` with no letter right before or after it.
bool ContainsWord(std::string_view text, std::string_view word) {
  for (std::size_t pos = text.find(word); pos != std::string_view::npos;
       pos = text.find(word, pos + 1)) {
    bool left = pos == 0 || !IsAsciiLetter(text[pos - 1]);
    std::size_t end = pos + word.size();
    bool right = end >= text.size() || !IsAsciiLetter(text[end]);
    if (left && right) return true;
  }
  return false;
}

template <std::size_t N>
bool InList(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string_view TopLevel(std::string_view host) {
  std::size_t dot = host.rfind('.');
  return dot == std::string_view::npos ? host : host.substr(dot + 1);
}

// A label that looks machine-made: letters mixed with three or more digits (a year aside),
// or ten or more letters with fewer than one vowel in six ("vy448tguxl", "zgwrpeymvh").
bool LooksRandom(std::string_view label) {
  if (label.size() < 6) return false;
  int digits = 0, letters = 0, vowels = 0;
  for (char c : label) {
    if (c >= '0' && c <= '9') ++digits;
    if (IsAsciiLetter(c)) {
      ++letters;
      char l = static_cast<char>(c | 0x20);
      if (l == 'a' || l == 'e' || l == 'i' || l == 'o' || l == 'u') ++vowels;
    }
  }
  // A year ("weld2020", "expo1999") is a name, not noise.
  const bool only_a_year = digits == 4 && (label.find("19") != std::string_view::npos ||
                                           label.find("20") != std::string_view::npos);
  if (digits >= 3 && letters >= 3 && !only_a_year) return true;
  return letters >= 10 && vowels * 6 < letters;
}

// A local part that looks machine-made: a token of 5 or more letters whose case flips
// three or more times ("oIXfHyk", "MdEDLOOsJ"), or letters mixed with three or more digits
// ("8n23y9t2ohb7"). People and mail services use lower case words, names and dots.
bool LooksRandomLocalPart(std::string_view local) {
  int flips = 0, letters = 0, digits = 0;
  int last_case = -1;  // 0 lower, 1 upper
  for (char c : local) {
    if (c >= '0' && c <= '9') ++digits;
    if (!IsAsciiLetter(c)) {
      last_case = -1;
      continue;
    }
    ++letters;
    int this_case = (c >= 'A' && c <= 'Z') ? 1 : 0;
    if (last_case >= 0 && this_case != last_case) ++flips;
    last_case = this_case;
  }
  return (letters >= 5 && flips >= 3) || (digits >= 3 && letters >= 3 && local.size() >= 8);
}

// Latin letters with unusual diacritics (U+1E00–U+1EFF, "ḟeel sặd") scattered through
// text that is otherwise almost all ASCII: a trick against word filters. Vietnamese, which
// uses that block for real, is far from all ASCII.
bool HasDiacriticObfuscation(std::string_view utf8) {
  std::size_t marked = 0, non_ascii = 0;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    auto b = static_cast<unsigned char>(utf8[i]);
    if (b < 0x80) continue;
    if ((b & 0xC0) != 0x80) ++non_ascii;
    if (b == 0xE1 && i + 1 < utf8.size() &&
        (static_cast<unsigned char>(utf8[i + 1]) == 0xB8 ||
         static_cast<unsigned char>(utf8[i + 1]) == 0xB9 ||
         static_cast<unsigned char>(utf8[i + 1]) == 0xBA ||
         static_cast<unsigned char>(utf8[i + 1]) == 0xBB)) {
      ++marked;
    }
  }
  return marked >= 8 && non_ascii * 20 < utf8.size();
}

// Letters from Unicode's "Mathematical Alphanumeric Symbols" (U+1D400–U+1D7FF) or
// fullwidth Latin letters (U+FF21–U+FF3A, U+FF41–U+FF5A): styled text that keyword
// filters do not read.
bool HasStyledLetters(std::string_view utf8, bool fullwidth = true) {
  for (std::size_t i = 0; i + 3 < utf8.size(); ++i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(utf8[i + k]); };
    if (b(0) == 0xF0 && b(1) == 0x9D && b(2) >= 0x90 && b(2) <= 0x9F) return true;
    if (!fullwidth) continue;
    // Fullwidth Latin letters only: fullwidth punctuation is ordinary in CJK text.
    if (b(0) == 0xEF && b(1) == 0xBC && b(2) >= 0xA1 && b(2) <= 0xBA) return true;
    if (b(0) == 0xEF && b(1) == 0xBD && b(2) >= 0x81 && b(2) <= 0x9A) return true;
  }
  return false;
}

// Emoji and pictographs (U+1F300–U+1FAFF, U+2600–U+27BF) in a subject.
bool HasEmoji(std::string_view utf8) {
  for (std::size_t i = 0; i + 2 < utf8.size(); ++i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(utf8[i + k]); };
    if (b(0) == 0xF0 && b(1) == 0x9F && b(2) >= 0x8C && b(2) <= 0xAB) return true;
    if (b(0) == 0xE2 && (b(1) == 0x98 || b(1) == 0x99 || b(1) == 0x9A || b(1) == 0x9B ||
                         b(1) == 0x9C || b(1) == 0x9D || b(1) == 0x9E)) {
      return true;
    }
  }
  return false;
}

// Two or more words of four or more capitals ("CONGRATS", "NOW"), or "!!", "??", "...."
bool Shouts(std::string_view subject) {
  if (subject.find("!!") != std::string_view::npos ||
      subject.find("??") != std::string_view::npos ||
      subject.find("....") != std::string_view::npos) {
    return true;
  }
  int words = 0, run = 0;
  for (std::size_t i = 0; i <= subject.size(); ++i) {
    const char c = i < subject.size() ? subject[i] : ' ';
    if (c >= 'A' && c <= 'Z') {
      ++run;
    } else if (IsAsciiLetter(c)) {
      run = -100;  // a mixed-case word
    } else {
      if (run >= 4) ++words;
      run = 0;
    }
  }
  return words >= 2;
}

// The display name before "<" holds a comma outside quotes: not valid RFC 5322 (a comma
// separates addresses), and a way to put two names in one field.
bool UnquotedCommaInName(std::string_view raw_from) {
  std::size_t angle = raw_from.find('<');
  if (angle == std::string_view::npos) return false;
  bool quoted = false;
  for (std::size_t i = 0; i < angle; ++i) {
    if (raw_from[i] == '"') quoted = !quoted;
    if (raw_from[i] == ',' && !quoted) return true;
  }
  return false;
}

std::string FormatWeight(double weight) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%g", weight);
  return buffer;
}

// Bulk mail that offers to unsubscribe in its text but not in a List-Unsubscribe field,
// which the large mailbox providers have required of bulk senders since 2024.
constexpr std::string_view kUnsubscribe[] = {
    "unsubscribe", "abmelden",      "abbestellen", "descadastr", "désabonner",
    "desabonner",  "darse de baja", "afmelden",    "opt-out",    "opt out"};

// Every word the text is searched for: the lexicons' in order, then kUnsubscribe.
std::vector<std::string> AllWords() {
  std::vector<std::string> words;
  for (const Lexicon& lexicon : Lexicons()) {
    words.insert(words.end(), lexicon.words.begin(), lexicon.words.end());
  }
  words.insert(words.end(), std::begin(kUnsubscribe), std::end(kUnsubscribe));
  return words;
}

}  // namespace

struct PhishingScorer::Tables {
  urls::DomainRules domains;
  WordSet words{AllWords()};
};

PhishingScorer::PhishingScorer(ScoreOptions options)
    : options_(options), tables_(std::make_unique<const Tables>()) {}

PhishingScorer::~PhishingScorer() = default;

Assessment PhishingScorer::Score(std::string_view message,
                                 std::span<const engine::Finding> findings,
                                 std::span<const std::string> found_urls) const {
  return Score(*mime::ParsedMessage::Parse(message), findings, found_urls);
}

Assessment PhishingScorer::Score(const mime::ParsedMessage& message,
                                 std::span<const engine::Finding> findings,
                                 std::span<const std::string> found_urls) const {
  Assessment assessment;
  assessment.threshold = options_.threshold;
  std::set<std::string> signals;
  auto add = [&](std::string signal, double weight, std::string evidence) {
    if (!signals.insert(signal).second) return;  // each signal counts once
    assessment.reasons.push_back({std::move(signal), weight, std::move(evidence)});
    assessment.score += weight;
  };
  const urls::DomainRules& rules = tables_->domains;

  // What the other detectors saw in the message.
  // A trusted forwarder vouches for the original authentication: what it broke on the way
  // (SPF for its address, DKIM over a changed body) says nothing about the sender.
  const bool arc_vouches = std::any_of(findings.begin(), findings.end(), [](const auto& f) {
    return f.name == "SenderAuth.ArcOverride";
  });
  std::set<std::string> seen;
  for (const auto& f : findings) {
    if (!seen.insert(f.name).second) continue;
    if (f.name == "Url.CredentialForm") add("credential_form", 3, "a form asks for a password");
    // Url.IpLiteralHost counts below with the link it is in. Url.DisplayMismatch does not
    // count: newsletters' tracked links show one domain and go to another as often as
    // phishing does (2 % of phishing-dev, 8 % of ham-dev).
    if (f.name == "Url.PunycodeHost" || f.name == "Url.MixedScriptHost") {
      add("deceptive_link_host", 1.5, f.name);
    }
    if (f.name == "Url.Shortener") add("shortened_link", 1, "a link through a URL shortener");
    if (f.name == "Url.Blocklisted" || f.name == "BlockList.url") {
      add("blocklisted_link", 4, "a link on a block list");
    }
    // Supporting only: impersonation alone is its own protection (tagged by default);
    // with another phishing signal it makes the message phishing.
    if (f.name.starts_with("Impersonation.")) add("impersonation", 2, f.name);
    // A link to a fake of the tenant's own domain: its sign-in page, imitated.
    if (f.name == "Url.LookalikeDomain")
      add("lookalike_link", 3, "a link imitates a protected domain");
    // Content signals of the lure's attachments: what the other detectors call suspicious
    // there (the engine reports script in HTML bodies as policy, in attachments as suspicious).
    const bool suspicious = f.category == engine::Category::kSuspicious;
    if (suspicious &&
        (f.name == "ActiveContent.HTML.Script" || f.name == "ActiveContent.SVG.Script")) {
      add("scripted_attachment", 1.5, f.name + " in " + f.path.ToString());
    }
    if (f.name == "FileName.DoubleExtension" || f.name == "FileName.BidiOverride" ||
        f.name == "FileName.TypeMismatch") {
      add("disguised_attachment", 2, f.name);
    }
    if (f.name == "FileType.Shortcut" || f.name == "FileType.Script" ||
        f.name == "FileType.DiskImage") {
      add("launcher_attachment", 1.5, f.name);
    }
    if (f.name == "ActiveContent.Macro.AutoExec") add("auto_exec_macro", 1.5, f.name);
    if (f.name == "SenderAuth.DmarcFail") add("dmarc_fail", 3, "DMARC failed");
    // Light: forwarding breaks SPF, mailing lists that edit the body break DKIM, and DMARC
    // (above) already weighs both where the sender's domain asks for it.
    if (!arc_vouches && f.name == "SenderAuth.SpfFail") add("spf_fail", 1, "SPF failed");
    if (!arc_vouches && f.name == "SenderAuth.DkimInvalid") {
      add("dkim_invalid", 0.5, "a DKIM signature failed");
    }
  }

  std::optional<MessageFacts> read = ReadMessage(message);
  if (!read) return assessment;
  MessageFacts& facts = *read;

  const Mailbox from = facts.from.empty() ? Mailbox{} : facts.from.front();
  const std::string from_domain = DomainOf(from.address);
  const std::string from_org = from_domain.empty() ? "" : rules.RegistrableDomain(from_domain);
  const std::string display = AsciiLower(from.name);

  // The sender.
  std::size_t at_signs = std::count(facts.raw_from.begin(), facts.raw_from.end(), '@');
  if (facts.from.size() > 1 || at_signs > 1) {
    add("several_senders", 3,
        "the From field names " +
            std::to_string(std::max<std::size_t>(facts.from.size(), at_signs)) + " addresses");
  }
  if (from_domain.empty() || from_domain.find('.') == std::string::npos ||
      !rules.HasKnownSuffix(from_domain)) {
    add("invalid_sender_domain", 3,
        from_domain.empty() ? "no sender domain" : "sender domain " + from_domain);
  } else {
    if (InList(kAbusedTlds, TopLevel(from_domain))) {
      add("abused_tld_sender", 1, "sender domain " + from_domain);
    }
    std::string_view labels(from_domain);
    labels = labels.substr(0, labels.rfind('.'));
    bool random = false;
    for (std::size_t start = 0; start <= labels.size();) {
      std::size_t dot = labels.find('.', start);
      std::string_view label =
          labels.substr(start, dot == std::string_view::npos ? dot : dot - start);
      random = random || LooksRandom(label);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (random) add("random_sender_domain", 1.5, "sender domain " + from_domain);
  }
  const bool freemail = InList(kFreemail, from_org);
  {
    // "support-exodus.com", "secure-login-bank.net": a hyphenated registrable domain built
    // from a word of account security.
    static constexpr std::string_view kSecurityWords[] = {
        "secure", "security", "support",  "verify",  "verification", "account",
        "login",  "signin",   "update",   "alert",   "service",      "billing",
        "wallet", "recovery", "helpdesk", "confirm", "unlock",       "auth"};
    const std::string_view first_label = std::string_view(from_org).substr(0, from_org.find('.'));
    if (first_label.find('-') != std::string_view::npos) {
      for (std::string_view word : kSecurityWords) {
        if (first_label.find(word) != std::string_view::npos) {
          add("security_word_domain", 1.5, "sender domain " + from_org);
          break;
        }
      }
    }
  }
  for (std::string_view h : kFreeHosting) {
    if (!from_domain.empty() && IsDomainOrSubdomain(from_domain, h)) {
      add("free_hosting_sender", 1.5, "sender domain " + from_domain);
      break;
    }
  }
  if (freemail) {
    add("freemail_sender", 1, "sender " + from_org);
    static constexpr std::string_view kOfficial[] = {"team",     "support",  "service",  "security",
                                                     "account",  "admin",    "helpdesk", "billing",
                                                     "customer", "help desk"};
    for (std::string_view word : kOfficial) {
      if (ContainsWord(display, word)) {
        add("official_name_on_freemail", 2, "display name says \"" + std::string(word) + "\"");
        break;
      }
    }
  }
  if (HasStyledLetters(from.name) || HasStyledLetters(facts.subject) ||
      HasStyledLetters(facts.raw_from) || HasStyledLetters(facts.text, /*fullwidth=*/false)) {
    add("styled_letters", 2, "mathematical or fullwidth letters");
  }
  if (HasDiacriticObfuscation(facts.text)) {
    add("diacritic_obfuscation", 2, "words spelt with stray diacritics");
  }
  if (std::size_t at = from.address.rfind('@'); at != std::string::npos && at > 0) {
    // The address as written: case matters here, so take it from the raw field.
    std::string_view raw(facts.raw_from_case);
    std::size_t found = AsciiLower(raw).find(from.address);
    std::string_view local = found == std::string::npos
                                 ? std::string_view(from.address).substr(0, at)
                                 : raw.substr(found, at);
    if (LooksRandomLocalPart(local)) {
      add("random_sender_name", 1.5, "sender address " + std::string(local) + "@…");
    }
  }

  // Impersonated brands: named as the sender (or, weaker, in the subject) or built into
  // the sender's domain ("updates-brand.com"), which is not one of the brand's.
  const std::string named = display + " | " + facts.subject;
  for (const Brand& brand : Brands()) {
    const bool as_sender = ContainsWord(display, brand.name);
    const bool in_subject = !as_sender && ContainsWord(facts.subject, brand.name);
    const bool in_domain = brand.name.size() >= 4 &&
                           brand.name.find(' ') == std::string_view::npos &&
                           from_org.find(brand.name) != std::string::npos;
    if (!as_sender && !in_subject && !in_domain) continue;
    bool genuine = std::any_of(brand.domains.begin(), brand.domains.end(), [&](std::string_view d) {
      return IsDomainOrSubdomain(from_domain, d);
    });
    if (genuine || from_domain.empty()) break;
    const std::string evidence = std::string(brand.name) + "; sender domain " + from_domain;
    if (as_sender) add("brand_impersonation", freemail ? 4 : 3, "sender named " + evidence);
    if (in_subject) add("brand_in_subject", 1.5, "subject names " + evidence);
    if (in_domain) add("brand_in_sender_domain", 2, "lookalike of " + evidence);
    break;
  }

  // Replies and recipients.
  if (!facts.reply_to.empty()) {
    std::string reply_domain = DomainOf(facts.reply_to.front().address);
    const std::string reply_org = reply_domain.empty() ? "" : rules.RegistrableDomain(reply_domain);
    if (!reply_org.empty() && !from_org.empty() && reply_org != from_org) {
      // Replies diverted to a free mailbox: the classic of advance-fee and BEC fraud.
      const bool to_freemail = InList(kFreemail, reply_org) && !freemail;
      add("reply_to_other_domain", to_freemail ? 3.5 : 2.5, "replies go to " + reply_org);
    }
  }
  bool undisclosed = facts.to.empty();
  for (const auto& to : facts.to) {
    if (to.address.empty() || AsciiLower(to.name).find("undisclosed") != std::string::npos) {
      undisclosed = true;
    }
  }
  if (undisclosed) add("undisclosed_recipients", 1, "no named recipient");
  for (std::size_t i = 0; i < facts.to.size() && i < 3; ++i) {
    const std::string& address = facts.to[i].address;
    if (address.empty()) continue;
    if (address == from.address) {
      add("sender_is_recipient", 2, "From and To are the same address");
      break;
    }
    if (facts.subject.find(address) != std::string::npos ||
        display.find(address) != std::string::npos) {
      add("recipient_address_in_subject", 3,
          "the subject or sender name repeats the recipient's address");
      break;
    }
  }
  static constexpr std::string_view kReplyPrefixes[] = {
      "re:", "fw:", "fwd:", "enc:", "aw:", "wg:", "rv:", "tr:", "sv:"};
  std::string_view subject = facts.subject;
  subject.remove_prefix(std::min(subject.find_first_not_of(" \t"), subject.size()));
  for (std::string_view prefix : kReplyPrefixes) {
    if (subject.starts_with(prefix) && !facts.is_reply) {
      // Weighed lightly: campaign newsletters use the trick too.
      add("fake_reply", 1.5, "\"" + std::string(prefix) + "\" without a message it replies to");
      break;
    }
  }
  if (HasEmoji(facts.subject)) add("emoji_subject", 1, "pictographs in the subject");
  if (Shouts(facts.subject_case))
    add("shouting_subject", 1, "capitals or repeated marks in the subject");
  if (!facts.has_date) add("no_date", 1, "no Date field");
  if (facts.date_unreadable) add("malformed_date", 1.5, "a Date field no mail program wrote");
  if (facts.message_id_malformed)
    add("malformed_message_id", 1.5, "an empty or malformed Message-ID");
  if (UnquotedCommaInName(facts.raw_from_case)) {
    add("malformed_sender_name", 2, "a comma outside quotes in the sender's name");
  }

  // Links: the message's own, and the URLs the scan found in it.
  std::set<std::string> link_orgs;
  bool abused_tld = false, hosting = false;
  std::string abused_example, hosting_example;
  if (facts.password_input) add("credential_form", 3, "a form asks for a password");
  // `clickable`: a link of the message's own HTML (where link_orgs comes from); the URLs
  // the scan found elsewhere (plain text, attachments, document type declarations) only
  // tell about the hosts they name.
  auto consider = [&](const std::string& host, bool clickable) {
    if (host.empty()) return;
    if (host.front() == '[' || host.find_first_not_of("0123456789.") == std::string::npos) {
      if (clickable) {
        add("ip_address_link", 2, "a link to a bare IP address");
      } else {
        add("ip_address_url", 1, "a URL with a bare IP address");
      }
      return;
    }
    if (rules.IsShortener(host)) add("shortened_link", 1, "a link through a URL shortener");
    if (clickable) link_orgs.insert(rules.RegistrableDomain(host));
    if (!abused_tld && InList(kAbusedTlds, TopLevel(host))) {
      abused_tld = true;
      abused_example = host;
    }
    for (std::string_view h : kFreeHosting) {
      if (!hosting && IsDomainOrSubdomain(host, h)) {
        hosting = true;
        hosting_example = std::string(h);
      }
    }
  };
  for (const auto& host : facts.link_hosts) consider(host, true);
  for (const auto& url : found_urls) {
    if (auto parsed = urls::ParseUrl(url)) consider(parsed->host, false);
  }
  if (abused_tld) add("abused_tld_link", 1.5, "a link to " + abused_example);
  if (hosting) add("free_hosting_link", 1, "a link to a page on " + hosting_example);
  if (!link_orgs.empty() && !from_org.empty() && !link_orgs.contains(from_org)) {
    add("links_elsewhere", 1, "no link to the sender's domain " + from_org);
  }

  // Words.
  int kinds = 0;
  int subject_kinds = 0;
  std::string kind_names;
  // found[] follows AllWords(): the lexicons' words in order, then kUnsubscribe.
  const std::vector<bool> found = tables_->words.Find(facts.text);
  std::size_t word = 0;
  for (const Lexicon& lexicon : Lexicons()) {
    bool in_text = false, in_subject = false;
    for (std::string_view w : lexicon.words) {
      const bool in_body = found[word++];
      in_subject = in_subject || named.find(w) != std::string::npos;
      in_text = in_text || in_subject || in_body;
    }
    if (in_text) {
      ++kinds;
      kind_names += (kind_names.empty() ? "" : ", ") + std::string(lexicon.kind);
    }
    if (in_subject) ++subject_kinds;
  }
  if (kinds >= 3) add("lure_vocabulary", 0.5 * (kinds - 2), kind_names);
  if (!facts.list_unsubscribe &&
      std::any_of(found.begin() + static_cast<std::ptrdiff_t>(word), found.end(),
                  [](bool f) { return f; })) {
    add("unsubscribe_without_header", 0.5, "an unsubscribe text without List-Unsubscribe");
  }
  if (subject_kinds > 0) {
    add("lure_subject", std::min(2, subject_kinds), "the subject or sender name speaks of it");
  }
  return assessment;
}

engine::Finding ToFinding(const Assessment& assessment) {
  engine::Finding finding;
  finding.detector = "phishing";
  finding.name = "Phishing.Score";
  finding.category = engine::Category::kSuspicious;
  finding.severity = assessment.score >= 2 * assessment.threshold ? engine::Severity::kHigh
                                                                  : engine::Severity::kMedium;
  std::string detail = "score " + FormatWeight(assessment.score) + " (threshold " +
                       FormatWeight(assessment.threshold) + "):";
  for (const auto& reason : assessment.reasons) {
    detail +=
        " " + reason.signal + " +" + FormatWeight(reason.weight) + " (" + reason.evidence + ");";
  }
  if (!assessment.reasons.empty()) detail.pop_back();
  finding.detail = std::move(detail);
  return finding;
}

}  // namespace bulwark::phishing
