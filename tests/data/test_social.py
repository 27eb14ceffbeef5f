"""The social-media normaliser (rnnkit.data.social) and the word tokenizer that saves it."""

from __future__ import annotations

import pytest

from rnnkit.data.social import normalize_social
from rnnkit.data.words import TextEncoder, WordTokenizer, tokenizer_from_dict
from rnnkit.errors import DataError


@pytest.mark.parametrize(
    "text,expected",
    [
        ("@John_Doe thanks! http://t.co/ab1 and www.x.org", "@user thanks! http and http"),
        ("so #NotFair2day", "so <hashtag> not fair 2 day </hashtag>"),
        ("#blessed", "<hashtag> blessed </hashtag>"),
        ("I'm SOOOO happy", "I'm <allcaps> SOO <elongated> happy"),
        ("gooood morning", "good <elongated> morning"),
        ("ok :) :( ;) :D <3 :P", "ok <smile> <sad> <wink> <smile> <heart> <tong>"),
        ("\\u2019s great \\ud83d\\ude02", "\u2019s great \U0001f602"),
        ("wow😂😂👍🏽", "wow \U0001f602 \U0001f602 \U0001f44d\U0001f3fd"),
        ("at 10:30, a:b and a/b", "at 10:30, a:b and a/b"),  # no emoticon inside words
        ("I", "I"),  # one capital is no emphasis
    ],
)
def test_tweets_are_normalised(text, expected):
    assert normalize_social(text) == expected


def test_the_tokenizer_keeps_markers_whole_and_saves_its_normaliser():
    tokenizer = WordTokenizer(normalizer="social")
    assert tokenizer.split("@bob NEVER again :( #SoSad http://x.co") == [
        "@", "user", "<allcaps>", "never", "again", "<sad>",
        "<hashtag>", "so", "sad", "</hashtag>", "http",
    ]  # fmt: skip
    saved = tokenizer.to_dict()
    assert saved["normalizer"] == "social"
    again = tokenizer_from_dict(saved)
    assert again.split("Sooo GOOD :)") == ["soo", "<elongated>", "<allcaps>", "good", "<smile>"]
    plain = WordTokenizer()
    assert "normalizer" not in plain.to_dict()  # old runs load unchanged
    assert plain.split("Sooo :)") == ["sooo", ":", ")"]


def test_the_encoder_fits_on_normalised_text_and_refuses_bpe():
    texts = ["@a I LOVE it :)", "@b hate it :(", "#SoGood"]
    encoder = TextEncoder.fit(texts, "word", normalizer="social")
    assert {"<allcaps>", "<smile>", "<sad>", "<hashtag>", "user"} <= set(
        encoder.vocabulary.tokens
    )
    assert TextEncoder.from_dict(encoder.to_dict()).ids(texts) == encoder.ids(texts)
    with pytest.raises(DataError, match=r"^--text-normalizer social works with --tokenizer word$"):
        TextEncoder.fit(texts, "bpe", normalizer="social")
