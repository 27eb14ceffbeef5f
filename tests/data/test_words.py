"""Word tokenizer, vocabulary and the optional BPE tokenizer."""

import pytest

from rnnkit.errors import DataError

from rnnkit.data.examples import LabelSet
from rnnkit.data.words import TextEncoder
from rnnkit.data.words import SubwordTokenizer, Vocabulary, WordTokenizer, tokenizer_from_dict


def test_word_tokenizer_splits_words_clitics_and_punctuation():
    tokenizer = WordTokenizer(lowercase=True)
    assert tokenizer.split("Don't stop, it 's GREAT!") == [
        "don't",
        "stop",
        ",",
        "it",
        "'s",
        "great",
        "!",
    ]
    assert WordTokenizer(lowercase=False).split("Hello World.") == ["Hello", "World", "."]
    assert tokenizer.split("   ") == []


def test_vocabulary_min_freq_max_size_and_reserved_ids():
    lists = [["b", "a", "b"], ["c", "b", "a"], ["d"]]
    vocabulary = Vocabulary.build(lists)
    assert vocabulary.tokens == [
        "<pad>",
        "<unk>",
        "b",
        "a",
        "c",
        "d",
    ]  # by count, ties in string order
    assert Vocabulary.build(lists, min_freq=2).tokens == ["<pad>", "<unk>", "b", "a"]
    assert Vocabulary.build(lists, max_size=3).tokens == ["<pad>", "<unk>", "b"]
    assert vocabulary.encode(["a", "zebra", "d"]) == [3, 1, 5]
    assert Vocabulary.from_dict(vocabulary.to_dict()).tokens == vocabulary.tokens


def test_text_encoder_round_trips_and_never_yields_empty_sequences():
    encoder = TextEncoder.fit(["a good film", "a bad film"], min_freq=1)
    again = TextEncoder.from_dict(encoder.to_dict())
    texts = ["A GOOD unseen film", "!!!"]
    assert [t.tolist() for t in again.encode(texts)] == [t.tolist() for t in encoder.encode(texts)]
    encoded = encoder.encode(texts)
    assert encoded[0].tolist()[2] == 1  # "unseen" is <unk>
    assert len(encoded[1]) >= 1  # never an empty sequence
    # a blank text has nothing to classify: refused, naming its place
    with pytest.raises(DataError, match=r"^input 1 is empty \('   '\); give a text to classify$"):
        encoder.encode(["a film", "   "])


def test_labels_sort_naturally():
    assert LabelSet.from_labels(["10", "2", "1", "2"]).names == ["1", "2", "10"]
    assert LabelSet.from_labels(["positive", "negative", "neutral"]).names == [
        "negative",
        "neutral",
        "positive",
    ]


def test_bpe_is_trained_on_the_texts_and_saved():
    pytest.importorskip("tokenizers")
    texts = ["the unbelievably good film", "an unbelievable bore", "good , good , good"] * 20
    tokenizer = SubwordTokenizer.train(texts, vocab_size=60)
    pieces = tokenizer.split("Unbelievably GOOD")
    assert "".join(pieces) == "unbelievablygood" and len(pieces) >= 2
    restored = tokenizer_from_dict(tokenizer.to_dict())
    assert restored.split("unbelievable films") == tokenizer.split("unbelievable films")
    encoder = TextEncoder.fit(texts, tokenizer="bpe", bpe_vocab_size=60)
    assert (
        TextEncoder.from_dict(encoder.to_dict()).encode(["good film"])[0].tolist()
        == encoder.encode(["good film"])[0].tolist()
    )
