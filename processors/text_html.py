"""HTML to plain text for tips: a real parser, visible text only, line structure kept.

The contract: ``looks_like_html`` is a cheap test that decides whether a text is parsed at
all (plain tips often contain a bare ``<`` such as "< 5 EUR" or "Max <max@example.org>",
which must survive untouched); ``html_to_text`` returns the text a reader would see, with
``<script>``/``<style>``/``<head>`` dropped, entities unescaped, block elements as line breaks,
``<blockquote>`` lines prefixed with ``"> "`` (so the e-mail rules treat them as quoted
history) and the target of a web link appended after its text when the text does not show it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Final

# Only these names count as evidence of markup; an unknown "<word>" stays text.
# A tag must also be well formed — attributes as name=value — so that "a<b and c>d" or
# "<a@example.org>" in a plain tip is not mistaken for markup.
_HTML_HINT: Final = re.compile(
    r"<(?:!doctype\b|!--|/?(?:html|head|body|div|p|br|span|a|b|i|u|em|strong|font|table|tbody|"
    r"thead|tr|td|th|ul|ol|li|h[1-6]|blockquote|img|hr|pre|center|style|script|meta|title|"
    r"section|article|small|sup|sub|wbr)"
    r"(?:\s+[\w:-]+\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s<>\"']+))*\s*/?>)",
    re.IGNORECASE,
)

_DROP: Final = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
_BLOCK: Final = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main",
        "nav", "ol", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_PARAGRAPH: Final = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6"})
_CELL: Final = frozenset({"td", "th"})
_VOID: Final = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area"})

_INLINE_SPACE: Final = re.compile(r"[ \t\n\r\f\v]+")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Markers for the start and end of a <blockquote>; control characters are removed from all
# data first, so these cannot come from the tip itself.
_QUOTE_OPEN: Final = "\x01"
_QUOTE_CLOSE: Final = "\x02"
_MAX_PASSES: Final = 3


def looks_like_html(text: str) -> bool:
    """True when the text contains at least one well-known HTML tag, comment or doctype."""
    return "<" in text and _HTML_HINT.search(text) is not None


class _TextExtractor(HTMLParser):
    """Collects visible text; stateful, so one instance per document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop_depth = 0
        self._pre_depth = 0
        self._link_href: str | None = None
        self._link_start = 0
        self._trailing_newlines = 2  # the start of a document counts as a paragraph break

    def _emit(self, text: str) -> None:
        if not text:
            return
        self.parts.append(text)
        stripped = text.rstrip("\n")
        if stripped.strip(" "):
            self._trailing_newlines = len(text) - len(stripped)
        else:
            self._trailing_newlines += len(text) - len(stripped)

    def _break(self, newlines: int) -> None:
        """End the current line (1) or paragraph (2) unless the output already does."""
        if self._trailing_newlines < newlines:
            self._emit("\n" * (newlines - self._trailing_newlines))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP:
            if tag not in _VOID:
                self._drop_depth += 1
            return
        if tag == "br":
            # <br> always breaks, even twice in a row (an intended blank line).
            self._emit("\n")
        elif tag in _PARAGRAPH:
            self._break(2)
        elif tag == "blockquote":
            self._break(1)
            self._emit(f"{_QUOTE_OPEN}\n")
        elif tag in _BLOCK:
            self._break(1)
            if tag == "pre":
                self._pre_depth += 1
        elif tag in _CELL:
            self._emit(" ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._link_href = href.strip() if href.strip().lower().startswith("http") else None
            self._link_start = len(self.parts)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and friends: a void element has no content, so never enter a drop state.
        if tag in _DROP:
            return
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP:
            self._drop_depth = max(0, self._drop_depth - 1)
            return
        if tag in _PARAGRAPH:
            self._break(2)
        elif tag == "blockquote":
            self._break(1)
            self._emit(f"{_QUOTE_CLOSE}\n")
        elif tag in _BLOCK:
            self._break(1)
            if tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
        elif tag == "a" and self._link_href is not None:
            self._append_link_target(self._link_href)
            self._link_href = None

    def _append_link_target(self, href: str) -> None:
        # Keep a link's target (often the shop or object page, i.e. evidence), but not for
        # mentions and hashtags, whose targets only repeat the visible "@user" / "#tag".
        shown = "".join(self.parts[self._link_start :]).strip()
        if not shown or shown.startswith(("#", "@")):
            return
        bare = href.split("://", 1)[-1].rstrip("/")
        # Mastodon and mail clients shorten long links on display ("example.org/objects/12…").
        shown_bare = shown.split("://", 1)[-1].rstrip("/…")
        if bare not in shown and not bare.startswith(shown_bare):
            self._emit(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self._drop_depth:
            return
        data = _CONTROL.sub("", data)
        if not self._pre_depth:
            data = _INLINE_SPACE.sub(" ", data)
            if self._trailing_newlines and not data.strip():
                return  # indentation between block tags is not text
        self._emit(data)


def _apply_quote_markers(text: str) -> str:
    lines: list[str] = []
    depth = 0
    for line in text.split("\n"):
        if line == _QUOTE_OPEN:
            depth += 1
        elif line == _QUOTE_CLOSE:
            depth = max(0, depth - 1)
        elif depth and line.strip():
            lines.append("> " * depth + line.strip())
        else:
            lines.append(line)
    return "\n".join(lines)


def _convert_once(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return _apply_quote_markers("".join(parser.parts))


def html_to_text(html: str) -> str:
    """Return the visible text of ``html`` (whitespace not yet collapsed)."""
    text = _convert_once(html)
    # Escaped markup ("&lt;p&gt;") becomes markup once unescaped; converting until no tags are
    # left keeps normalise idempotent for everything but pathological multiply-escaped input.
    for _ in range(_MAX_PASSES - 1):
        if not looks_like_html(text):
            break
        text = _convert_once(text)
    return text
