"""Web-page structure: which lines of a document are article body, reader comments, boilerplate or bylines.

Scraped pages are mostly not article. Each block (line or paragraph, see ``units.text_blocks``) is labelled:

- ``boilerplate``: donation and membership appeals, copyright and disclaimer lines, "Read more:" stubs, share,
  newsletter and comment-form prompts, navigation-like lines (link lists, ``Tags:``, ``a | b | c``);
- ``byline``: who wrote a comment and when ("NAME's picture", "NAME (not verified) ... 2:35 AM", "3 hours ago",
  "NAME says:", a lone name above a comment, "Reply", a bare reply number) and article bylines ("By NAME");
  bylines are never units;
- ``comments``: everything else from where the reader comments begin;
- ``body``: everything else.

The rules are patterns of web pages in general (WordPress and Drupal comment threads, forum threads, news pages
with newsletter boxes), not of any one site; ``tests/test_sections.py`` checks them on pages written for the
purpose in several layouts, and on the aleppo pages against hand labels.
"""
from __future__ import annotations

import itertools
import re
from typing import Sequence

__all__ = ["SECTIONS", "classify_blocks"]

SECTIONS = ("body", "comments", "boilerplate")
BYLINE = "byline"

_I = re.IGNORECASE
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"

# Boilerplate: matched against a whole block; short-line patterns also require the block to be short.
_BOILERPLATE_ANYWHERE = [re.compile(p, _I) for p in (
    r"©|\bcopyright\b|\ball rights reserved\b",
    r"^disclaimer\b|\bviews expressed (here|in this)\b|\bsole responsibility of the author|"
    r"\bdoes not necessarily reflect\b|\bcopyrighted material\b|\bfair use\b",
    r"\b(please )?(support (us|our|the project|independent|this site)|donate\b|make a donation|donation|patreon|"
    r"paypal|become a (member|patron|supporter|subscriber)|chip in\b)",
    r"\b(sign up|subscribe) (for|to) (our|the)\b.*\b(newsletter|updates|briefing|digest)\b|\benter your e-?mail\b|"
    r"\bnever miss a (story|post)\b|\bget (our|the) newsletter\b",
    r"\byour e-?mail address will not be published\b|\brequired fields are marked\b|"
    r"\byou must be logged in\b|\blog in to (comment|reply)\b|\bcomment on .{0,60}\b(facebook|twitter)\b",
    r"\bthe original source of this article is\b|\bfor media inquiries\b|\barticles by:|"
    r"\bthis (article|post) (was|is) (originally )?(published|reposted|republished)",
)]
_BOILERPLATE_SHORT = [re.compile(p, _I) for p in (
    r"^\W*(read more|continue reading|read the (full|original) (article|story)|more from|see also|"
    r"related( posts| articles| stories| content| reading)?|you (may|might) also like|recommended( for you)?|"
    r"trending( now)?|most (read|popular)|popular posts|latest (posts|news)|advertisement|sponsored)\b",
    r"^\W*(share( this)?( article| post| story| page)?|tweet|e-?mail|print|"
    r"share on \w+|follow us( on \w+)?|like us on \w+|subscribe( now)?|sign up( now)?|join now|donate( now)?)\W*$",
    r"^\W*click to (share|print|email|tweet)\b",
    r"^\W*(sort(ed)?|order(ed)?|filter(ed)?) by\b.{0,25}$",  # comment-thread controls
    r"^\W*(region|theme|tags?|categories|category|filed under|topics?|posted in|labels?)\s*:",
    r"^\W*(leave a (comment|reply)|post a comment|add (a|your) comment|cancel reply|load more comments|"
    r"show( all| more)? comments|view comments|sign in|log in|register)\W*$",
    r"^\W*(home|about( us)?|contact( us)?|privacy policy|terms( of (use|service))?|cookie policy)\W*$",
    r"^\s*(\[[^\]]*\]\([^)]*\)[\s,|·•/-]*)+$",  # nothing but markdown links
    r"^(?:[^|]{1,40}\|){2,}[^|]{0,40}$",       # a | b | c navigation
)]
_SHORT_WORDS = 15

# Where reader comments begin.
_COMMENT_HEADER = re.compile(
    r"^\W*(\d+\s+)?(reader |user )?(comments?|responses?|replies|discussion|conversation)\s*(\(\d+\))?\s*:?\W*$|"
    r"^\W*\d+\s+thoughts? on\b|^\W*(join|start) the (discussion|conversation)\b|^\W*what do you think\??\W*$|"
    r"^\W*(leave a (comment|reply)|post a comment|add (a|your) comment)\W*$", _I)
# A list of links under one of these headings ("Most read", "Related") is boilerplate line by line.
_LIST_HEADER = re.compile(
    r"^\W*(most (read|popular|viewed|shared|commented)|related( posts| articles| stories| content| reading)?|"
    r"trending( now)?|recommended( for you)?|more from .{1,30}|popular posts|latest (posts|news|stories)|read next|"
    r"you (may|might) also like|see also)\W*$", _I)
_SENTENCE_END = re.compile(r"[.!?\"”’)]\s*$")
_END_OF_BODY = re.compile(r"^\W*(related( posts| articles| stories)?|you (may|might) also like|more from)\W*$", _I)

# Who wrote a comment, and when.
_BYLINE = [re.compile(p, _I) for p in (
    r"^.{1,60}'s picture$",
    r"^.{1,60}\(not verified\)",
    r"^.{1,60}\bsays:?$|^.{1,60}\b(wrote|writes|replied):$",
    # "3 hours ago", "Lena Vos • 2 hours ago", "edited 5 days ago"
    r"^.{0,40}?\b(about |an? )?(\d+\s+)?(seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago\W*$",
    r"^\W*(reply|report|like|flag|permalink|quote|edit|delete|upvote|downvote|\d+ likes?|reply to this( comment)?|"
    r"in reply to .{1,40})(\s*[|·•]\s*\w+)*\W*$",
    r"^\W*#?\d{1,4}[.)]?\W*$",
    r"^(posted|written|submitted|published) by .{1,60}$",
    r"^(posted|published|updated|last updated)( on)? .{1,40}(\bby\b .{1,40})?$",
    r"^by\s+\S.{0,60}$",
    r"^(on |posted on )?(\w+day,? )?(\d{1,2}(st|nd|rd|th)? (of )?)?" + _MONTH + r"( \d{1,2}(st|nd|rd|th)?)?,? \d{4}"
    r"(,? (at )?\d{1,2}:\d{2}(\s*[ap]\.?m\.?)?)?\W*$",
    r"^\d{4}-\d{2}-\d{2}([ t]\d{2}:\d{2}(:\d{2})?)?\W*$|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}( \d{1,2}:\d{2}.*)?$",
    # a dateline: "Outlet, December 08, 2016" or "Author 7 December 2016"
    r"^(\S+\s+){0,5}\S*\W*(\d{1,2} " + _MONTH + r",? \d{4}|" + _MONTH + r" \d{1,2}(st|nd|rd|th)?,? \d{4})\W*$",
)]
_TIMESTAMP = re.compile(r"\b\d{1,2}:\d{2}\s*([ap]\.?m\.?)\b|\b\d{1,2}:\d{2}\b", _I)
_STRONG_BYLINE = [_BYLINE[0], _BYLINE[1], _BYLINE[2], _BYLINE[3]]
_NAME_TOKEN = re.compile(r"^@?[^\W\d_][\w'’.-]*$|^@?\w*\d\w*$")
_TERMINAL = re.compile(r"[!?:;,…\"”]\s*$|[^A-Z]\.\s*$|\.\.\s*$")
_NUMBERED_REPLY = re.compile(r"^\s*\d{1,3}\.\s+\S")


# Bylines and boilerplate are short: longer blocks are never matched against their patterns, which keeps the
# patterns' time linear (a 14-word "line" of 40,000 '&' cost 102 s of backtracking in the dateline pattern).
_BYLINE_MAX_CHARS = 300
_BOILERPLATE_MAX_CHARS = 4000


def _words(block: str) -> int:
    return len(block.split())


def _is_boilerplate(block: str) -> bool:
    # Boilerplate paragraphs say what they are up front; a long comment that merely quotes "©" is not one.
    if len(block) > _BOILERPLATE_MAX_CHARS:
        return False
    lead = " ".join(block.split()[:25])
    if _words(block) <= 200 and any(p.search(block if _words(block) <= 40 else lead) for p in _BOILERPLATE_ANYWHERE):
        return True
    return _words(block) <= _SHORT_WORDS and any(p.search(block) for p in _BOILERPLATE_SHORT)


def _is_byline(block: str) -> bool:
    if len(block) > _BYLINE_MAX_CHARS or _words(block) > 14 or "\n" in block:
        return False
    if any(p.search(block) for p in _BYLINE):
        return True
    # "NAME  Nov 29, 2016 2:35 AM": a short line that carries a clock time and no sentence.
    return _words(block) <= 10 and bool(_TIMESTAMP.search(block)) and not re.search(r"[.!?]\s*$", block)


def _is_strong_byline(block: str) -> bool:
    return len(block) <= _BYLINE_MAX_CHARS and _words(block) <= 14 and any(p.search(block) for p in _STRONG_BYLINE)


def _is_name_line(block: str) -> bool:
    """A lone commenter name: one to four name-like tokens, no sentence punctuation, nothing else."""
    tokens = block.split()
    return (1 <= len(tokens) <= 4 and len(block) <= 40 and "\n" not in block
            and all(_NAME_TOKEN.match(t) for t in tokens) and not _TERMINAL.search(block))


def _comment_start(blocks: Sequence[str], plain: Sequence[bool]) -> int | None:
    """Index of the first block of the comment thread, or None when the page has none."""
    n = len(blocks)
    last_content = max((i for i in range(n) if plain[i]), default=-1)
    # plain_before[i]: plain blocks before block i (one pass, not a sum per block: pages can be long)
    plain_before = [0, *itertools.accumulate(plain)]
    for i, block in enumerate(blocks):
        # a comment header that comes after all content is only the comment form
        if _COMMENT_HEADER.search(block) and i < last_content:
            return i
    for i, block in enumerate(blocks):
        if i >= 3 and _is_strong_byline(block) and plain_before[i] >= 3:
            return i
    for i, block in enumerate(blocks):
        if _END_OF_BODY.search(block) and sum(1 for b in blocks[i + 1:] if _NUMBERED_REPLY.match(b)
                                             and _words(b) >= 8) >= 2:
            return i
    # Reply signatures: two or more byline-like lines in a row ("#2 / handle / 12 Mar 2031, 09:40",
    # "NAME says: / March 3, 2031 at 4:12 pm"), at least twice, after the article.
    signatures = [i for i in range(n - 1) if plain_before[i] >= 3 and _is_signature(blocks, plain, i)
                  and (i == 0 or plain[i - 1] or not _is_signature(blocks, plain, i - 1))]
    if len(signatures) >= 2:
        return signatures[0]
    # A thread signed only by lone names: from some point on, names alternate with comments to the end.
    names = [i for i in range(1, n - 1) if plain[i] and _is_name_line(blocks[i]) and plain[i + 1]
             and not _is_name_line(blocks[i + 1]) and plain_before[i] >= 3]
    for first in names:
        later = [i for i in names if i >= first]
        tail = sum(1 for i in range(first, n) if plain[i])
        if len(later) >= 3 and len(later) / max(tail, 1) >= 0.12 and (n - later[-1]) <= max(12, (n - first) // 3):
            return first
    return None


def _is_signature(blocks: Sequence[str], plain: Sequence[bool], i: int) -> bool:
    """Block i starts a run of at least two byline-like blocks (bylines or lone names) that ends in text."""
    j = i
    while j < len(blocks) and (not plain[j] and _is_byline(blocks[j]) or plain[j] and _is_name_line(blocks[j])):
        j += 1
    return j - i >= 2 and j < len(blocks) and plain[j] and any(_is_byline(b) for b in blocks[i:j])


def classify_blocks(blocks: Sequence[str]) -> list[str]:
    """Label each block ``body``, ``comments``, ``boilerplate`` or ``byline`` (see the module docstring)."""
    # Scraped pages are full of non-breaking and odd spaces; patterns see every run of whitespace as one space
    # (a hard-wrapped paragraph keeps its line breaks, which the byline rules rely on).
    blocks = ["\n".join(" ".join(line.split()) for line in block.split("\n")) for block in blocks]
    boiler = [_is_boilerplate(b) for b in blocks]
    byline = [not boiler[i] and _is_byline(b) for i, b in enumerate(blocks)]
    plain = [not (boiler[i] or byline[i]) for i in range(len(blocks))]
    start = _comment_start(blocks, plain)
    labels = []
    in_link_list = False
    for i, block in enumerate(blocks):
        in_comments = start is not None and i >= start
        # lines under "Most read" / "Related" that read as headlines, not sentences, are links
        in_link_list = (in_link_list and plain[i] and _words(block) <= 14 and not _SENTENCE_END.search(block)
                        and not _NUMBERED_REPLY.match(block))
        if boiler[i] or in_link_list or (in_comments and i == start and (_COMMENT_HEADER.search(block)
                                                                          or _END_OF_BODY.search(block))):
            labels.append("boilerplate")
        elif byline[i] or (in_comments and _is_name_line(block) and i + 1 < len(blocks)
                           and (plain[i + 1] or byline[i + 1])):
            labels.append(BYLINE)
        else:
            labels.append("comments" if in_comments else "body")
        if _LIST_HEADER.search(block):
            in_link_list = True
    return labels
