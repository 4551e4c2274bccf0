"""Online identity rules: e-mail addresses (plain and obfuscated), social handles, profile URLs
and personal tokens in the query string of otherwise useful shop or product URLs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from processors.pii import Span

# --- URLs -----------------------------------------------------------------------------------------

_URL = re.compile(
    r"(?:\bhttps?://|\bwww\.)[^\s<>\"'\]\[{}|]+"
    # Bare "shop.de/path" links: only with a path, so that "Amazon.de" stays a shop name.
    r"|(?<![@\w.-])(?:[a-z0-9-]+\.)+[a-z]{2,24}/[^\s<>\"'\]\[{}|]*",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)'\""

# Hosts where the first path segment (or a pattern of segments) names a person's account.
_SOCIAL_HOSTS = frozenset(
    {
        "twitter.com", "x.com", "facebook.com", "fb.com", "instagram.com", "tiktok.com",
        "vk.com", "t.me", "telegram.me", "linkedin.com", "youtube.com", "threads.net",
        "bsky.app", "reddit.com", "ok.ru", "pinterest.com", "snapchat.com", "tumblr.com",
    }
)  # fmt: skip
# First path segments on those hosts that are content about an object, not an account: a
# Marketplace listing or an Instagram post can be the lead itself.
_SOCIAL_CONTENT = frozenset(
    {
        "marketplace", "p", "reel", "reels", "explore", "hashtag", "search", "watch", "shorts",
        "groups", "events", "home", "share", "intent", "i", "tags", "pin", "r",
    }
)  # fmt: skip
_PROFILE_PATHS = ("/in/", "/u/", "/user/", "/channel/", "/c/", "/profile/", "/people/")

# Query parameters that track or identify the person who shared a link.
_TOKEN_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "igsh",
        "ttclid", "twclid", "li_fat_id", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "si",
        "_trkparms", "_trksid", "trk", "trkid", "amdata", "sessionid", "session_id", "session",
        "sid", "phpsessid", "jsessionid", "sessid", "token", "access_token", "auth", "authtoken",
        "uid", "user", "userid", "user_id", "username", "customer", "customerid", "customer_id",
        "email", "e-mail", "mail", "phone", "tel", "name", "share_id", "shareid", "ref_id",
        "referrer", "s_kwcid", "epik", "_ga", "_gl", "vero_id", "oly_enc_id", "oly_anon_id",
        "rb_clickid", "wickedid", "ml_subscriber", "ml_subscriber_hash", "ck_subscriber_id",
        "sc_uid", "spm", "scid", "aff_id", "affiliate_id", "subid", "clickid", "click_id",
    }
)  # fmt: skip
_TOKEN_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "vero_", "oly_", "matomo_", "itm_")


def _host(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].split(":", 1)[0].lower()
    for prefix in ("www.", "m.", "mobile.", "web.", "de-de.", "en-gb."):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    return host


def _is_profile(url: str) -> bool:
    parts = urlsplit(url if "://" in url else f"https://{url}")
    path = parts.path
    # Mastodon, Threads, TikTok and YouTube all put accounts at "/@name".
    if path.startswith("/@") or "/@" in path:
        return True
    host = _host(parts.netloc)
    if host not in _SOCIAL_HOSTS:
        return False
    if any(path.startswith(p) for p in _PROFILE_PATHS) or path.startswith("/profile.php"):
        return True
    first = path.strip("/").split("/", 1)[0].lower()
    return bool(first) and first not in _SOCIAL_CONTENT


def _is_token(param: str) -> bool:
    name = param.split("=", 1)[0].lower()
    return name in _TOKEN_PARAMS or name.startswith(_TOKEN_PREFIXES)


def find_urls(text: str) -> list[Span]:
    """Every URL becomes a span: profiles are masked, personal query tokens are dropped, and
    the rest is protected so number rules never bite into a product page address."""
    if "/" not in text and "www." not in text:
        return []
    spans: list[Span] = []
    for m in _URL.finditer(text):
        url = m.group().rstrip(_TRAILING)
        start, end = m.start(), m.start() + len(url)
        if _is_profile(url):
            spans.append(Span(start, end, "HANDLE"))
            continue
        base, sep, rest = url.partition("?")
        query, hashsep, fragment = rest.partition("#")
        params = [p for p in re.split(r"[&;]", query) if p] if sep else []
        kept = [p for p in params if not _is_token(p)]
        dropped = len(params) - len(kept)
        # A ";jsessionid=..." path parameter identifies a session as much as a query token.
        base, n_path = re.subn(r";jsessionid=[^/?#]*", "", base, flags=re.IGNORECASE)
        dropped += n_path
        if not dropped:
            spans.append(Span(start, end, None))
            continue
        clean = base + ("?" + "&".join(kept) if kept else "") + (hashsep + fragment)
        spans.append(Span(start, end, "URL_TOKEN", clean, dropped))
    return spans


# --- e-mail addresses -----------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+@-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,24}(?![\w-])")

_AT_WORDS = r"at|arobase|arroba|chiocciola|ma[łl]pa|sobaka|собака|ät|snabel-a|kukac|zavináč"
_DOT_WORDS = r"dot|punkt|point|punto|kropka|punt|pont|tečka|bodka|piste|точка|τελεία|nokta"
# "[at]", "(at)", "{at}", "<at>", " at ", " @ " and their equivalents in other languages.
_AT_BRACKET = rf"\s*[(\[{{<]\s*(?:{_AT_WORDS}|@)\s*[)\]}}>]\s*"
_AT_SPACED = rf"\s+(?:{_AT_WORDS})\s+"
_AT_PLAIN = r"\s*@\s*"
_DOT_OBF = rf"\s*[(\[{{<]\s*(?:{_DOT_WORDS}|\.)\s*[)\]}}>]\s*|\s+(?:{_DOT_WORDS})\s+"
_DOT_ANY = rf"(?:{_DOT_OBF}|\.)"
_OBFUSCATED = re.compile(
    rf"(?<![\w.+-])(?P<local>[\w+-]+(?:{_DOT_ANY}[\w+-]+)*)"
    rf"(?P<at>{_AT_BRACKET}|{_AT_SPACED}|{_AT_PLAIN})"
    rf"(?P<domain>[\w-]+(?:{_DOT_ANY}[\w-]+)*?)(?P<dot>{_DOT_ANY})(?P<tld>[^\W\d_]{{2,10}})(?![\w-])",
    re.IGNORECASE,
)
# Substrings without which no obfuscated address is possible: a cheap test before the regex.
_OBF_HINTS = (
    " at ",
    "(at",
    "[at",
    "{at",
    "<at",
    " @",
    "@ ",
    "arobase",
    "arroba",
    "chiocciola",
    "małpa",
    "malpa",
    "sobaka",
    "собака",
    " ät",
    "snabel",
    "kukac",
    "zavináč",
)
_DOT_HINTS = (" dot ", " punkt", "(dot", "[dot", "{dot", "point", "punto", "kropka", " punt",
              "(.)", "[.]")  # fmt: skip
# Where a bare " at " is used with real dots ("jan.k at wp.pl"), "I bought it at amazon.de"
# looks the same; accept it only for mail providers or a local part that looks like an address.
_MAIL_PROVIDERS = frozenset(
    {
        "gmail", "googlemail", "gmx", "web", "yahoo", "outlook", "hotmail", "live", "msn",
        "icloud", "me", "aol", "proton", "protonmail", "pm", "mail", "t-online", "freenet",
        "posteo", "aon", "chello", "bluewin", "orange", "free", "laposte", "sfr", "wanadoo",
        "libero", "tiscali", "virgilio", "alice", "tim", "wp", "onet", "o2", "interia", "gazeta",
        "seznam", "centrum", "email", "yandex", "ya", "rambler", "ukr", "i", "abv", "freemail",
        "ziggo", "kpnmail", "telenet", "skynet", "sapo", "btinternet", "sky", "virginmedia",
        "zoho", "tutanota", "gmx.net", "inbox", "op", "vp",
    }
)  # fmt: skip
_DOT_OBF_RE = re.compile(_DOT_OBF, re.IGNORECASE)
_ADDRESSY_LOCAL = re.compile(r"[._+\d-]")


def find_emails(text: str) -> list[Span]:
    """Plain addresses, then obfuscated ones ("name at domain dot com", "name(at)domain.de")."""
    spans: list[Span] = []
    at = text.find("@")
    while at != -1:
        # Walk back from each "@" to where the local part starts, then match there: cheaper
        # than letting the regex try every position of the text.
        start = at
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._+-"):
            start -= 1
        m = _EMAIL.match(text, start)
        if m is not None and start < at:
            spans.append(Span(m.start(), m.end(), "EMAIL"))
            at = text.find("@", m.end())
        else:
            at = text.find("@", at + 1)
    lowered = text.lower()
    if not any(h in lowered for h in _OBF_HINTS) and not (
        "@" in text and any(h in lowered for h in _DOT_HINTS)
    ):
        return spans
    pos = 0
    while (m := _OBFUSCATED.search(text, pos)) is not None:
        # On a rejected match, look again from its domain: in "reach me at anna at gmx dot de"
        # the real address starts where the rejected one's domain did.
        pos = m.start("domain")
        at_sep, dot, domain = m.group("at"), m.group("dot"), m.group("domain")
        dots_plain = dot == "." and not _DOT_OBF_RE.search(domain)
        if at_sep == "@" and dots_plain:
            pos = m.end()
            continue  # an ordinary address: the plain pattern owns it
        spaced_at = not any(c in at_sep for c in "([{<")
        if spaced_at and dots_plain:
            first_label = domain.split(".", 1)[0].lower()
            if first_label not in _MAIL_PROVIDERS and not _ADDRESSY_LOCAL.search(m.group("local")):
                continue
        spans.append(Span(m.start(), m.end(), "EMAIL"))
        pos = m.end()
    return spans


# --- social handles -------------------------------------------------------------------------------

_HANDLE = re.compile(
    r"(?<![\w@/.:+-])@[A-Za-z0-9_](?:[\w.]{0,29}[\w])?(?:@[\w-]+(?:\.[\w-]+)+)?(?![\w@])"
)


def find_handles(text: str) -> list[Span]:
    """``@user`` and fediverse ``@user@instance`` mentions."""
    if "@" not in text:
        return []
    return [Span(m.start(), m.end(), "HANDLE") for m in _HANDLE.finditer(text)]
