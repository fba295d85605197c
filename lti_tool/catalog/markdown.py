"""Rich text as district admins type it: Markdown in the editors, HTML in the catalog documents.

``to_html`` turns what was typed into the catalog's tag set (p, br, ul, ol, li, strong, em, a, h3, h4,
blockquote) with markdown-it-py (CommonMark, maintained by the Executable Books project): headings of any
level become h3 (``#`` to ``###``) or h4 (deeper); images, code and rules are off. HTML typed inline is kept
for ``document.parse`` to sanitise with nh3, as before. ``from_html`` is the way back, for showing a stored
field in the editor: a small converter for exactly that tag set (stored HTML was sanitised to it), such that
``to_html(from_html(html))`` keeps the same elements and text. The documents stay HTML: import and export do
not change.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from flask_babel import lazy_gettext as _l
from markdown_it import MarkdownIt

from lti_tool.catalog.richtext import MAX_CHARS

_md = MarkdownIt("commonmark", {"html": True, "breaks": False}).disable(["image", "code", "fence", "hr"])
_md.add_render_rule("heading_open", lambda self, tokens, idx, options, env: f"<{_heading(tokens[idx].tag)}>")
_md.add_render_rule("heading_close", lambda self, tokens, idx, options, env: f"</{_heading(tokens[idx].tag)}>\n")

HINT = _l("Markdown: a blank line starts a paragraph; **bold**, *italics*; lines starting with - or 1. make a "
           "list; > quotes; ### a heading; [words](https://example.org) a link.")


def _heading(tag: str) -> str:
    return "h3" if tag in ("h1", "h2", "h3") else "h4"


def to_html(text: str) -> str:
    """The HTML of what was typed. Text longer than an HTML field may be is returned as it is, unconverted, so
    the document's limit refuses it by length (and markdown-it never works on megabytes)."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text or len(text) > MAX_CHARS:
        return text
    return _md.render(text).strip()


# --- HTML → Markdown ------------------------------------------------------------------------------------

_ESCAPE = re.compile(r"([\\`*_\[\]<>])")
_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+[.)])(?=\s|$)", re.MULTILINE)
_ENTITY = re.compile(r"&(?=#?\w+;)")


def _escape_text(text: str) -> str:
    text = _ESCAPE.sub(r"\\\1", text)
    text = _ENTITY.sub(r"\\&", text)
    return _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)


class _ToMarkdown(HTMLParser):
    """Writes Markdown for the catalog's tag set; other tags are dropped and their text kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, bool, int]] = []  # (text, inside a list, blockquote depth)
        self.line: list[str] = []                      # the inline text being collected
        self.lists: list[dict] = []                    # open lists: kind, next number, indents
        self.marker: str | None = None                 # an item's marker, written before its first text
        self.quote = 0
        self.links: list[str | None] = []

    def handle_data(self, data: str) -> None:
        text = re.sub(r"\s+", " ", data)
        if not "".join(self.line).strip():
            text = text.lstrip()
        if text:
            self.line.append(_escape_text(text))

    def _flush(self) -> None:
        text = "".join(self.line).strip()
        self.line = []
        if not text:
            return
        indent = self.lists[-1]["content"] if self.lists else ""
        lines = [line.strip() for line in text.split("\n")]
        first = (self.marker if self.marker is not None else indent) + lines[0]
        self.marker = None
        lines = [first] + [indent + line for line in lines[1:]]
        self.blocks.append(("\n".join("> " * self.quote + line for line in lines), bool(self.lists), self.quote))

    def handle_starttag(self, tag: str, attrs) -> None:
        attrs = dict(attrs)
        if tag in ("p", "h3", "h4", "blockquote", "ul", "ol", "li"):
            self._flush()
        if tag == "blockquote":
            self.quote += 1
        elif tag in ("ul", "ol"):
            base = self.lists[-1]["content"] if self.lists else ""
            start = int(attrs["start"]) if tag == "ol" and (attrs.get("start") or "").isdigit() else 1
            self.lists.append({"kind": tag, "next": start, "base": base, "content": base})
        elif tag == "li" and self.lists:
            current = self.lists[-1]
            marker = "- " if current["kind"] == "ul" else f"{current['next']}. "
            current["next"] += 1
            current["content"] = current["base"] + " " * len(marker)
            self.marker = current["base"] + marker
        elif tag in ("h3", "h4"):
            self.line.append("#" * int(tag[1]) + " ")
        elif tag in ("strong", "em"):
            self.line.append("**" if tag == "strong" else "*")
        elif tag == "br":
            self.line.append("\\\n")
        elif tag == "a":
            self.links.append(attrs.get("href"))
            if attrs.get("href"):
                self.line.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "h3", "h4", "li", "blockquote", "ul", "ol"):
            self._flush()
        if tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag in ("strong", "em"):
            self.line.append("**" if tag == "strong" else "*")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self.line.append("](" + href.replace(" ", "%20").replace("(", "%28").replace(")", "%29") + ")")

    def markdown(self) -> str:
        self._flush()
        out = ""
        previous: tuple[str, bool, int] | None = None
        for block in self.blocks:
            if previous is not None:
                if previous[1] and block[1]:
                    out += "\n"  # items of one list on consecutive lines: a tight list
                elif previous[2] and block[2]:
                    out += "\n" + "> " * min(previous[2], block[2]) + "\n"  # paragraphs of one quote
                else:
                    out += "\n\n"
            out += block[0]
            previous = block
        return out


def from_html(html: str) -> str:
    """Markdown for a stored HTML field (the catalog's tag set), to edit it."""
    if not html or "<" not in html:
        return _escape_text(html or "")
    parser = _ToMarkdown()
    parser.feed(html)
    parser.close()
    return parser.markdown()
