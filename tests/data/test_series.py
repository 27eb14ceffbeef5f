"""Reading CSV series: columns, numbers, times, order, duplicates, gaps and filling."""

import numpy as np
import pytest

from rnnkit.data.series import infer_frequency, read_series
from rnnkit.errors import DataError


def write(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_airline_passengers_is_a_monthly_series(shared_data):
    series = read_series(
        shared_data / "classic_timeseries/airline-passengers.csv", ["Passengers"], "Month"
    )
    assert len(series) == 144 and series.frequency == "MS"
    assert series.targets[0, 0] == 112 and series.targets[-1, 0] == 432
    assert str(series.time[0].date()) == "1949-01-01" and series.lines[0] == 2


def test_etth1_is_hourly_with_covariates(shared_data):
    series = read_series(shared_data / "ett/ETTh1.csv", ["OT"], "date", past=["HUFL", "LULL"])
    assert (
        series.targets.shape == (17420, 1)
        and series.past.shape == (17420, 2)
        and series.frequency == "h"
    )
    assert series.targets[0, 0] == pytest.approx(30.5310001373291)


def test_column_and_number_errors_name_the_place(tmp_path):
    path = write(tmp_path, "t,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,abc\n")
    with pytest.raises(DataError) as error:
        read_series(path, ["value"], "t")
    assert str(error.value) == f"{path}: no target column 'value'; the columns are t, y"
    with pytest.raises(DataError) as error:
        read_series(path, ["y"], "t")
    assert str(error.value) == f"{path} line 4, column 'y': expected a finite number, found 'abc'"
    bad_time = write(tmp_path, "t,y\n2020-01-01,1\nyesterday,2\n", "t.csv")
    with pytest.raises(DataError) as error:
        read_series(bad_time, ["y"], "t")
    assert (
        str(error.value)
        == f"{bad_time} line 3, column 't': expected a date/time, found 'yesterday'"
    )


def test_missing_values_are_an_error_unless_filled(tmp_path):
    path = write(tmp_path, "t,y\n2020-01-01,1\n2020-01-02,\n2020-01-03,5\n2020-01-04,NA\n")
    with pytest.raises(DataError) as error:
        read_series(path, ["y"], "t")
    assert str(error.value) == (
        f"{path} line 3, column 'y': missing value (pass --fill interpolate or --fill ffill)"
    )
    assert read_series(path, ["y"], "t", fill="interpolate").targets[:, 0].tolist() == [1, 3, 5, 5]
    assert read_series(path, ["y"], "t", fill="ffill").targets[:, 0].tolist() == [1, 1, 5, 5]


def test_unsorted_rows_are_an_error_or_sorted_explicitly(tmp_path):
    path = write(tmp_path, "t,y\n2020-01-01,1\n2020-01-03,3\n2020-01-02,2\n2020-01-04,4\n")
    with pytest.raises(DataError) as error:
        read_series(path, ["y"], "t")
    assert str(error.value) == (
        f"{path} line 4: time 2020-01-02 00:00:00 comes before the previous row's "
        f"2020-01-03 00:00:00; rows must be in time order (or pass --order sort)"
    )
    series = read_series(path, ["y"], "t", order="sort")
    assert series.targets[:, 0].tolist() == [1, 2, 3, 4] and series.lines.tolist() == [2, 4, 3, 5]


def test_duplicate_times_are_an_error_or_merged(tmp_path):
    path = write(tmp_path, "t,y\n2020-01-01,1\n2020-01-02,2\n2020-01-02,4\n2020-01-03,5\n")
    with pytest.raises(DataError) as error:
        read_series(path, ["y"], "t")
    assert str(error.value) == (
        f"{path} lines 3 and 4: duplicate time 2020-01-02 00:00:00 "
        f"(pass --duplicates mean or last to merge them)"
    )
    assert read_series(path, ["y"], "t", duplicates="mean").targets[:, 0].tolist() == [1, 3, 5]
    assert read_series(path, ["y"], "t", duplicates="last").targets[:, 0].tolist() == [1, 4, 5]


def test_missing_timestamps_are_found_and_filled(shared_data):
    path = shared_data / "classic_timeseries/daily-min-temperatures.csv"
    with pytest.raises(DataError) as error:
        read_series(path, ["Temp"], "Date")
    assert str(error.value) == (
        f"{path}: 2 timestamps missing from the D grid (the first is 1984-12-31 00:00:00); "
        f"pass --fill interpolate or --fill ffill to fill them"
    )
    series = read_series(path, ["Temp"], "Date", fill="interpolate")
    assert len(series) == 3652 and series.frequency == "D"
    gap = int(np.flatnonzero(series.lines == -1)[0])
    assert series.targets[gap, 0] == pytest.approx(
        (series.targets[gap - 1, 0] + series.targets[gap + 1, 0]) / 2
    )


def test_without_a_time_column_rows_are_taken_in_file_order(tmp_path):
    path = write(tmp_path, "a\tb\n1\t2\n3\t4\n", "s.tsv")
    series = read_series(path, ["a", "b"])
    assert (
        series.time is None
        and series.frequency is None
        and series.targets.tolist() == [[1, 2], [3, 4]]
    )


def test_frequency_survives_a_gap():
    import pandas as pd

    time = pd.date_range("2020-01-01", periods=100, freq="h").delete(40)
    assert infer_frequency(time) == "h"


def test_semicolon_separated_files_and_unreadable_ones(tmp_path):
    path = write(tmp_path, "t;y\n2020-01-01;1.5\n2020-01-02;2.5\n")
    assert read_series(path, ["y"], "t").targets[:, 0].tolist() == [1.5, 2.5]
    with pytest.raises(DataError) as error:
        read_series(tmp_path / "missing.csv", ["y"])
    assert str(error.value) == f"{tmp_path / 'missing.csv'}: no such file"
    empty = write(tmp_path, "", "empty.csv")
    with pytest.raises(DataError, match=r"empty.csv: the file is empty; expected a header line"):
        read_series(empty, ["y"])
    header_only = write(tmp_path, "t,y\n", "header.csv")
    with pytest.raises(DataError) as error:
        read_series(header_only, ["y"])
    assert str(error.value) == f"{header_only}: has a header but no rows"


def test_gzipped_ettm1_is_a_quarter_hourly_series(shared_data):
    series = read_series(shared_data / "ett/ETTm1.csv.gz", ["OT"], "date")
    assert len(series) == 69680 and series.frequency == "15min"
