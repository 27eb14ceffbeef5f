"""CSV, TSV and JSONL tables of labelled text, and their one-line errors."""

import pytest

from rnnkit.data.examples import LabelSet, read_examples
from rnnkit.data.tables import read_labelled_text
from rnnkit.errors import DataError


def test_reads_csv_with_quotes_tsv_without_and_jsonl(tmp_path):
    csv_file = tmp_path / "a.csv"
    csv_file.write_text('text,label\n"good, really ""good""",pos\nbad,neg\n')
    assert read_labelled_text(csv_file) == (['good, really "good"', "bad"], ["pos", "neg"], [2, 3])
    tsv_file = tmp_path / "a.tsv"
    tsv_file.write_text('sentence\tlabel\n"quoted start\t1\n\nplain\t0\n')
    assert read_labelled_text(tsv_file) == (['"quoted start', "plain"], ["1", "0"], [2, 4])
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"review": "fine", "stars": 4}\n\n{"review": "awful", "stars": 1}\n')
    assert read_labelled_text(jsonl, label_column="stars") == (
        ["fine", "awful"],
        ["4", "1"],
        [1, 3],
    )


def test_column_errors_name_the_file_and_the_columns(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("body,label\nhello,1\n")
    with pytest.raises(DataError) as error:
        read_labelled_text(path)
    assert str(error.value) == (
        f"{path}: no text column; expected one of text, sentence, review, content, "
        "found body, label (choose one with --text-column)"
    )
    with pytest.raises(DataError) as error:
        read_labelled_text(path, text_column="body", label_column="stars")
    assert str(error.value) == f"{path}: no label column 'stars'; found columns: body, label"


def test_row_errors_name_the_line(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("text,label\nfine,1\n  ,0\n")
    with pytest.raises(DataError) as error:
        read_labelled_text(path)
    assert str(error.value) == f"{path}: line 3: the text ('text') is empty"
    path.write_text("text,label\nfine,1,extra\n")
    with pytest.raises(DataError) as error:
        read_labelled_text(path)
    assert str(error.value) == f"{path}: line 2: expected 2 fields (text, label), found 3"
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"text": "ok", "label": 1}\n{"text": "no label"}\n')
    with pytest.raises(DataError) as error:
        read_labelled_text(jsonl)
    assert str(error.value) == f"{jsonl}: line 2: the label ('label') is missing"
    jsonl.write_text('{"text": "ok", "label": 1}\n{"text": oops}\n')
    with pytest.raises(DataError) as error:
        read_labelled_text(jsonl)
    assert str(error.value) == f"{jsonl}: line 2, column 10: not valid JSON (Expecting value)"


def test_unknown_label_names_the_row_and_the_known_labels(tmp_path):
    path = tmp_path / "dev.tsv"
    path.write_text("text\tlabel\ngreat\tpositive\nmeh\tneutral\n")
    examples = read_examples(path, numeric=False)
    with pytest.raises(DataError) as error:
        LabelSet(["negative", "positive"]).encode(examples)
    assert str(error.value) == (
        f"{path}: line 3: label 'neutral' was not among the training labels (negative, positive)"
    )


def test_unlabelled_files_and_unknown_types(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("first text\n\nsecond text\n")
    assert read_labelled_text(path, labels_required=False) == (
        ["first text", "second text"],
        None,
        [1, 3],
    )
    other = tmp_path / "data.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(DataError) as error:
        read_labelled_text(other)
    assert (
        str(error.value)
        == f"{other}: unknown file type '.xlsx'; expected one of .csv, .tsv, .jsonl, .json, .txt "
        "(or the same ending in .gz)"
    )


def test_reads_the_real_sst2_dev_set(shared_data):
    texts, labels, _ = read_labelled_text(shared_data / "sst2" / "dev.tsv")
    assert len(texts) == 872 and labels.count("0") == 428 and labels.count("1") == 444
