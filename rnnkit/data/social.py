"""Text as it is on social media, normalised before it is split into words
(``--text-normalizer social``). The word tokenizer saves the choice, so that the run,
``predict``, the export and the server read a tweet the same way.

What changes, after the conventions of TweetEval (Barbieri et al. 2020: ``@user``, ``http``)
and ekphrasis (Baziotis et al. 2017, the DataStories system of SemEval-2017 Task 4):

- literal ``\\uXXXX`` escapes (surrogate pairs too) become their characters;
- URLs become ``http`` and user mentions ``@user``;
- a hashtag becomes ``<hashtag> its words </hashtag>``, split at case changes and digits
  (``#NotFair2day`` -> ``<hashtag> not fair 2 day </hashtag>``);
- emoticons become one token each (``:)`` -> ``<smile>``, ``:(`` -> ``<sad>``, ...), and
  every emoji stands apart, so that it is a token of its own;
- a letter repeated three or more times is cut to two and marked (``soooo`` -> ``soo
  <elongated>``);
- a word in capitals (two letters or more) is marked (``NEVER`` -> ``<allcaps> NEVER``), so
  that lower-casing keeps the emphasis.
"""

from __future__ import annotations

import re

NORMALIZERS = ("none", "social")
MARKER_PATTERN = r"</?[a-z]+>|"
"""Prepended to a word tokenizer's pattern when the social normaliser runs, so that its
markers (``<hashtag>``, ``</hashtag>``, ``<allcaps>``, ...) stay one token each."""

ESCAPE = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u([0-9a-f]{4})", re.I)
URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
MENTION = re.compile(r"(?<!\w)@\w+")
HASHTAG = re.compile(r"(?<!\w)#(\w+)")
HASHTAG_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\W\d_]+")
ELONGATED = re.compile(r"\b(\w*?)(\w)\2{2,}(\w*)\b")
ALLCAPS = re.compile(r"(?<![\w<])([A-Z][A-Z']+)(?![\w>])")
EMOTICONS = {
    "<smile>": r"[:=]-?\)+|\(+-?[:=]|[:=]-?[dD]\b|\^_?\^",
    "<laugh>": r"[xX]-?[dD]\b|:'-?\)",
    "<sad>": r"[:=]-?\(+|\)+-?[:=]|:'-?\(|</3",
    "<wink>": r";-?[)dD]",
    "<tong>": r"[:=]-?[pP]\b",
    "<surprise>": r"[:=]-?[oO]\b",
    "<annoyed>": r"[:=]-?[/\\|](?![/\w])",
    "<heart>": r"<3",
}
EMOTICON = re.compile("|".join(f"(?P<e{i}>{p})" for i, p in enumerate(EMOTICONS.values())))
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2300-\u23ff\u2b00-\u2bff\ufe0f\u200d]+"
)


def normalize_social(text: str) -> str:
    """``text`` normalised as the module docstring says."""
    text = ESCAPE.sub(_unescape, text)
    text = URL.sub(" http ", text)
    text = MENTION.sub(" @user ", text)
    text = HASHTAG.sub(_hashtag, text)
    text = EMOTICON.sub(_emoticon, text)
    text = EMOJI.sub(lambda match: " " + " ".join(_emoji_tokens(match.group())) + " ", text)
    text = ELONGATED.sub(_elongated, text)
    text = ALLCAPS.sub(r"<allcaps> \1", text)
    return " ".join(text.split())


def normalize(text: str, normalizer: str) -> str:
    return normalize_social(text) if normalizer == "social" else text


def _unescape(match: re.Match) -> str:
    if match.group(3):
        code = int(match.group(3), 16)
        return "" if 0xD800 <= code <= 0xDFFF else chr(code)  # a lone surrogate: dropped
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def _hashtag(match: re.Match) -> str:
    words = HASHTAG_PARTS.findall(match.group(1)) or [match.group(1)]
    return " <hashtag> " + " ".join(w.lower() for w in words) + " </hashtag> "


def _emoticon(match: re.Match) -> str:
    index = int(match.lastgroup[1:])
    return " " + list(EMOTICONS)[index] + " "


def _emoji_tokens(run: str) -> list[str]:
    """An emoji run as tokens: each pictograph with its joiners, variation selectors and skin
    tones."""
    tokens = []
    for character in run:
        joins = character in "\ufe0f\u200d" or "\U0001f3fb" <= character <= "\U0001f3ff"
        if tokens and (joins or tokens[-1].endswith("\u200d")):
            tokens[-1] += character
        else:
            tokens.append(character)
    return tokens


def _elongated(match: re.Match) -> str:
    head, letter, tail = match.groups()
    return f"{head}{letter * 2}{tail} <elongated>"
