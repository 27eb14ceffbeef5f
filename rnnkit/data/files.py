"""Reading files as text, in one place and without torch: plain or gzip (``.gz``), UTF-8 with
or without a BOM (or UTF-16 with its BOM), any line ends; and one-line errors that name the
file, the line and the column of what is wrong (a NUL byte, an invalid byte, a broken gzip).
Every reader of text, tables and manifests starts here."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from rnnkit.errors import DataError

GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def check_file(path, expected: str = "a UTF-8 text file (or .gz)") -> Path:
    """``path`` as a Path, or a one-line error: an empty name, a name no file system takes
    (too long, a NUL), no such file, or a folder where a file goes."""
    if str(path) == "":
        raise DataError(f"an empty file name; expected {expected}")
    path = Path(path)
    try:
        folder, found = path.is_dir(), path.is_file()
    except (OSError, ValueError) as error:  # ENAMETOOLONG, or an embedded NUL
        shown = str(path) if len(str(path)) <= 60 else str(path)[:57] + "..."
        why = getattr(error, "strerror", None) or str(error)
        raise DataError(f"{shown}: not a usable file name ({why}); expected {expected}") from None
    if folder:
        raise DataError(f"{path}: is a directory; expected {expected}")
    if not found:
        raise DataError(f"{path}: no such file")
    return path


def gzip_error(path, error) -> DataError:
    return DataError(f"{path}: is not a readable gzip file ({error})")


def read_bytes(path, expected: str = "a UTF-8 text file (or .gz)") -> bytes:
    """The file's bytes, decompressed when its name ends in ``.gz``."""
    path = check_file(path, expected)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    if path.suffix.lower() == ".gz":
        try:
            data = gzip.decompress(data)
        except GZIP_ERRORS as error:
            raise gzip_error(path, error) from None
    return data


def _line_and_column(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def decode_utf8(path, data: bytes, first_line: int = 1) -> str:
    """``data`` as UTF-8, or a one-line error that names the line and column of a NUL byte or
    of an invalid byte (``first_line`` is the line ``data`` starts on)."""
    if b"\x00" in data:
        line, column = _line_and_column(data, data.index(b"\x00"))
        raise DataError(
            f"{path}: line {line + first_line - 1}, column {column}: found a NUL byte; "
            "expected UTF-8 text, not a binary file"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _line_and_column(data, error.start)
        raise DataError(
            f"{path}: line {line + first_line - 1}, column {column}: byte "
            f"0x{data[error.start]:02x} is not valid UTF-8; expected UTF-8 text"
        ) from None


def decode_text(path, data: bytes) -> str:
    """``data`` as text: UTF-16 when it starts with a UTF-16 BOM (as Excel's "Unicode text"
    saves), else UTF-8; a UTF-8 BOM is dropped and every line end becomes ``\\n``."""
    if data[:2] in UTF16_BOMS:
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise DataError(
                f"{path}: byte {error.start} is not valid UTF-16 (the file starts with a "
                "UTF-16 byte-order mark)"
            ) from None
        if "\x00" in text:
            raise DataError(f"{path}: found a NUL character; expected text")
    else:
        text = decode_utf8(path, data)
    return normalise_line_ends(text[1:] if text.startswith("\ufeff") else text)


def normalise_line_ends(text: str) -> str:
    """``\\r\\n`` and ``\\r`` become ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path) -> str:
    """A whole text file (see :func:`decode_text`), with one-line errors; an empty file is one."""
    data = read_bytes(path)
    if not data:
        raise DataError(f"{path}: the file is empty; expected UTF-8 text")
    return decode_text(path, data)
