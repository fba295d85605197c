"""Rich text in catalog documents: its limits, checked before sanitising, and the sanitiser (nh3).

nh3's HTML5 parser looks down the stack of open elements at every block tag, so its time grows with the size
of a field times how deeply its tags nest: 20,000 nested list items took 3.8 s, a 1.2 MB field over six
minutes. So each HTML field is capped in length (``MAX_CHARS``, the schema's ``maxLength``, which bounds the
worst case on its own) and in nesting (``MAX_DEPTH``, a message a district admin can act on) before nh3 sees it.
Real fields are a few hundred characters, two levels deep. Figures: docs/benchmarks.md (bench/import_limits.py).
"""
from __future__ import annotations

import re

import nh3

MAX_CHARS = 16_384
MAX_DEPTH = 20
ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "strong", "em", "a", "h3", "h4", "blockquote"}

# A tag as the HTML tokenizer starts one: "<" or "</", then a letter. It is taken to end at the first ">", never
# later than the tokenizer ends it (which skips a ">" inside a quoted value), so no real tag hides inside one.
_TAG = re.compile(r"<(/?)([A-Za-z][^\t\n\f\r />]*)[^>]*>")
_VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
# The parser reopens these after a block that closed them, so they count until their own end tag closes them.
_FORMATTING = frozenset("a b big code em font i nobr s small strike strong tt u".split())
_CLOSED_BY_ITS_OWN_KIND = {"li": {"li"}, "dd": {"dd", "dt"}, "dt": {"dd", "dt"}, "option": {"option"}}
_CLOSES_P = frozenset("address article aside blockquote center details dialog dir div dl fieldset figcaption "
                      "figure footer form h1 h2 h3 h4 h5 h6 header hgroup main menu nav ol p pre section summary "
                      "table ul li dd dt".split())
_ENDED_BY_PARENT = frozenset("dd dt li optgroup option p rb rp rt rtc".split())


def nesting_depth(html: str, stop_after: int = MAX_DEPTH) -> int:
    """How deeply the tags of ``html`` nest, over-estimated: an element counts until the parser would certainly
    have closed it (its end tag, or an unclosed ``<li>``/``<p>`` followed by another). Stops past ``stop_after``."""
    stack: list[str] = []
    deepest = 0
    for match in _TAG.finditer(html):
        name = match.group(2).lower()
        if name in _VOID:
            continue
        if match.group(1):
            _end(stack, name)
            continue
        closes = set(_CLOSED_BY_ITS_OWN_KIND.get(name, ())) | ({"p"} if name in _CLOSES_P else set())
        below = next((i for i in range(len(stack) - 1, -1, -1) if stack[i] not in _FORMATTING), None)
        if below is not None and stack[below] in closes:
            del stack[below]
        stack.append(name)
        deepest = max(deepest, len(stack))
        if deepest > stop_after:
            break
    return deepest


def _end(stack: list[str], name: str) -> None:
    """An end tag closes its element and the unclosed items and paragraphs inside it; formatting elements
    inside stay counted, and anything else in between means the parser may not close it: then nothing."""
    passable = _FORMATTING if name in _FORMATTING else _FORMATTING | _ENDED_BY_PARENT
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] == name:
            stack[i:] = [tag for tag in stack[i + 1:] if tag in _FORMATTING]
            return
        if stack[i] not in passable:
            return


def problem(html: str) -> str | None:
    """Why this field cannot be accepted as it is, in words for a district admin; ``None`` when it can."""
    if len(html) > MAX_CHARS:
        return f"is {len(html):,} characters long; at most {MAX_CHARS:,}"
    if nesting_depth(html) > MAX_DEPTH:
        return f"the HTML nests more than {MAX_DEPTH} levels deep (lists inside lists?); flatten it"
    return None


def sanitize(html: str) -> str:
    """Keep the tags a catalog page uses; links get rel="noopener noreferrer" and only http(s)/mailto.
    Call ``problem`` first: nh3's time is not bounded for fields it refuses."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer",
                     url_schemes={"https", "http", "mailto"})
