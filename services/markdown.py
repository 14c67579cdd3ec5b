"""The Markdown of help pages: checked once, at load, so that every app renders it safely.

A help page is third-party text drawn by the app's own Markdown renderer, so what a plug-in may write is
narrowed to what every renderer draws the same way and no renderer can be tricked by: CommonMark without raw
HTML (a `<script>` or `<img onerror>` is refused, not escaped, so the author sees the mistake), links only to
`http`, `https`, `mailto` and `tel` (a `javascript:` or relative link is refused), and no images (the app would
fetch them from a third party, which leaks who reads what, and they would not show offline).

markdown-it-py parses: it is the Python port of markdown-it (the parser behind many JavaScript renderers),
follows the CommonMark spec and its test suite, and gives a token stream, so links and HTML are found as the
app's renderer would find them, not by regular expressions over the text. It is told to recognise every link
(`validateLink` accepts all) so that a link it would silently leave as text is still seen and refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
MAX_MARKDOWN_CHARS = 20_000


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True})  # html on: so raw HTML shows up as tokens to refuse
    parser.validateLink = lambda url: True  # type: ignore[method-assign]  # see every link, refuse by scheme
    return parser


_PARSER = _parser()


def _tokens(tokens: Sequence[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _tokens(token.children)


def markdown_problems(text: object) -> list[str]:
    """Why this text cannot be a help page's Markdown (empty: it can)."""
    if not isinstance(text, str) or not text.strip():
        return ["must be non-empty text"]
    if len(text) > MAX_MARKDOWN_CHARS:
        return [f"is longer than {MAX_MARKDOWN_CHARS} characters"]
    if any(ord(c) < 32 and c not in "\n\t" or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        return ["holds control characters or lone surrogates"]
    problems: list[str] = []
    for token in _tokens(_PARSER.parse(text)):
        if token.type in ("html_block", "html_inline"):
            problems.append(f"holds raw HTML {token.content.strip()[:40]!r}; write Markdown instead")
        elif token.type == "image":
            problems.append("holds an image; help pages are text (images leak readers and do not show offline)")
        elif token.type == "link_open":
            href = str(token.attrs.get("href", ""))
            scheme = urlsplit(href).scheme.lower() if ":" in href else ""
            if scheme not in ALLOWED_SCHEMES:
                problems.append(f"links to {href[:60]!r}; only {', '.join(sorted(ALLOWED_SCHEMES))} links are "
                                "allowed")
    return problems

