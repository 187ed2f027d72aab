"""Readers: one delivered file → Arrow record batches of its columns, with row numbers.

Every reader streams (memory bounded by the batch size, whatever the file size) and yields
:class:`RawBatch` objects whose columns carry the headers as delivered. CSV and Excel columns are
text; Parquet columns keep their types.

Row numbers count data rows: 1 is the first row after the header, in every format (the same
numbering as ``truth/defects.csv`` of the synthetic district). Blank lines of a CSV are skipped and
not counted; in Excel, row N is the sheet row N + header row (so blank sheet rows keep their
place); a record of a CSV spanning several lines (a quoted line break) counts once.

A file that cannot be read at all raises :class:`FileRejected` with a message that says what is
wrong and what to do. Problems of single rows (a CSV line with the wrong number of fields, the
cut-off last line of a truncated file) become :class:`RowIssue` entries, never a failed file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shengxin.enterprises.hub.encoding import (
    LABELS,
    EncodingChoice,
    Utf8Stream,
    candidates,
)
from shengxin.enterprises.hub.mapping import Mapping, normalise_header

#: Bytes pyarrow parses at a time. Small, because its streaming reader reads a few dozen blocks
#: ahead: memory is about 20 blocks whatever the file size. Blocks are joined into batches of
#: about CSV_BATCH_ROWS rows, so the vectorised steps still work on large batches.
CSV_BLOCK_SIZE = 4 << 20
CSV_BATCH_ROWS = 1 << 20
PARQUET_BATCH_ROWS = 1 << 20
EXCEL_BATCH_ROWS = 20_000
_TEXT_TYPES = ("uscc", "date", "month", "enum", "code")


class FileRejected(Exception):
    """The whole file cannot be ingested; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class NeedsExactReading(Exception):
    """Raised by the fast CSV path when a malformed line sits in the middle of the file: the
    file is then re-read by the exact (slower) path, which numbers every row precisely."""


@dataclass
class RawBatch:
    data: pa.RecordBatch
    rows: np.ndarray  # int64 row numbers, one per record
    last: bool = False  # the file's last batch


@dataclass
class RowIssue:
    row: int
    code: str
    reason: str
    text: str


class Reader(ABC):
    """One delivered file. :meth:`batches` may be called more than once: each call is a fresh
    pass over the file (the hub reads key columns first to find repeated keys, then everything)
    and refills :attr:`row_issues`."""

    def __init__(self, path: Path, mapping: Mapping):
        self.path = path
        self.mapping = mapping
        self.headers: list[str] = []
        self.notes: list[tuple[str, str]] = []  # file-level warnings (code, message)
        self.row_issues: list[RowIssue] = []
        self.progress_total = 0
        self.final_line_cut = False  # CSV without a final line break

    @property
    @abstractmethod
    def progress_done(self) -> int:
        """How far the current pass got, in the unit of :attr:`progress_total`."""

    @property
    def text_replaced(self) -> bool:
        return False

    @property
    def encoding_label(self) -> str:
        return ""

    @abstractmethod
    def batches(self, columns: list[str] | None = None) -> Iterator[RawBatch]:
        """A fresh pass over the file's records; ``columns`` (headers as delivered) limits what
        is read where the format allows it (Parquet, CSV), and is a hint otherwise."""

    def close(self) -> None:
        pass


def _required_headers(mapping: Mapping) -> list[tuple[str, ...]]:
    return [c.headers for c in mapping.columns if c.required]


def _header_score(mapping: Mapping, headers: list[str]) -> tuple[int, int]:
    folded = {normalise_header(h) for h in headers}
    required = sum(any(h in folded for h in hs) for hs in _required_headers(mapping))
    known = sum(any(h in folded for h in c.headers) for c in mapping.columns)
    return required, known


def _check_size(path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        raise FileRejected("file.empty", "文件为空（0 字节）：请检查导出是否成功后重新报送")
    return size


def _join_batches(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """Several record batches as one (dictionaries unified)."""
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


def _with_lookahead(batches: Iterator[RawBatch]) -> Iterator[RawBatch]:
    """Mark the last batch (``last=True``) by holding one batch back."""
    previous = None
    for b in batches:
        if previous is not None:
            yield previous
        previous = b
    if previous is not None:
        previous.last = True
        yield previous


# --- CSV ----------------------------------------------------------------------------------------


class CsvReader(Reader):
    """CSV in any of the supported encodings; fast path through ``pyarrow.csv``."""

    def __init__(self, path: Path, mapping: Mapping, exact: bool = False):
        super().__init__(path, mapping)
        self.block_size = CSV_BLOCK_SIZE
        self.batch_rows = CSV_BATCH_ROWS
        self.exact = exact
        self.progress_total = _check_size(path)
        self._file = open(path, "rb")  # noqa: SIM115 - open for the reader's lifetime, see close()
        try:
            head = self._file.read(1 << 20)
            self.choice = self._choose_encoding(head)
            self._file.seek(-1, io.SEEK_END)
            self.final_line_cut = self._file.read(1) not in (b"\n", b"\r")
            self._last_line = self._read_last_line() if self.final_line_cut else ""
        except BaseException:
            self._file.close()
            raise
        self._stream: Utf8Stream | None = None
        self._replaced_before = False
        self._invalid: list[tuple[int, int, str]] = []

    def _first_record(self, text: str) -> list[str]:
        lines = io.StringIO(text, newline="")
        reader = csv.reader(lines, delimiter=self.mapping.delimiter)
        record: list[str] = []
        for _ in range(self.mapping.header_row):
            record = next(reader, [])
        return [h.strip() for h in record]

    def _choose_encoding(self, head: bytes) -> EncodingChoice:
        best: tuple[tuple[int, int], EncodingChoice, list[str]] | None = None
        tried = candidates(head, self.mapping.encoding)
        for choice in tried:
            text = head[choice.bom_length:].decode(choice.codec, errors="replace")
            headers = self._first_record(text)
            score = _header_score(self.mapping, headers)
            if best is None or score > best[0]:
                best = (score, choice, headers)
            if score[0] == len(_required_headers(self.mapping)):
                break
        assert best is not None
        _, choice, headers = best
        if not any(h for h in headers):
            raise FileRejected("file.no_header", "文件第一行是空的，找不到表头：请确认文件第一行是列名")
        declared = self.mapping.encoding
        if choice is not tried[0] or (choice.reason == "byte-order mark" and declared not in ("auto", "utf-8")
                                      and not choice.codec.startswith(declared)):
            expected = LABELS.get({"gbk": "gb18030"}.get(declared, declared), declared)
            self.notes.append((
                "file.encoding",
                f"文件编码与约定不符：约定为 {expected}，实际按 {choice.label} 读取（{'字节序标记' if choice.bom_length else '按表头识别'}）",
            ))
        self.headers = headers
        return choice

    def _read_last_line(self) -> str:
        size = self.progress_total
        self._file.seek(max(0, size - (1 << 16)))
        tail = self._file.read().decode(self.choice.codec, errors="replace")
        return tail.rsplit("\n", 1)[-1].strip("\r")

    @property
    def progress_done(self) -> int:
        return self._stream.bytes_read if self._stream else 0

    @property
    def text_replaced(self) -> bool:
        """Whether any pass so far met bytes invalid in the file's encoding (pass 1 reads the
        whole file, so pass 2 knows before it validates the first batch)."""
        return self._replaced_before or bool(self._stream and self._stream.replaced)

    @property
    def encoding_label(self) -> str:
        return self.choice.label

    def _open_stream(self) -> Utf8Stream:
        self._replaced_before = self.text_replaced
        self._stream = Utf8Stream(self._file, self.choice.codec, skip=self.choice.bom_length)
        return self._stream

    def batches(self, columns: list[str] | None = None) -> Iterator[RawBatch]:
        self.row_issues = []
        self._invalid = []
        inner = self._exact_batches() if self.exact else self._fast_batches(columns)
        return _with_lookahead(inner)

    def _on_invalid(self, row) -> str:
        self._invalid.append((row.expected_columns, row.actual_columns, row.text))
        return "skip"

    def _fast_batches(self, columns: list[str] | None) -> Iterator[RawBatch]:
        stream = self._open_stream()
        opts = pacsv.ReadOptions(block_size=self.block_size, skip_rows=self.mapping.header_row - 1,
                                 use_threads=False)
        parse = pacsv.ParseOptions(delimiter=self.mapping.delimiter, newlines_in_values=True,
                                   invalid_row_handler=self._on_invalid)
        convert = pacsv.ConvertOptions(column_types={h: pa.string() for h in self.headers},
                                       include_columns=columns or [],
                                       strings_can_be_null=True, quoted_strings_can_be_null=True,
                                       null_values=[""])
        try:
            reader = pacsv.open_csv(stream, read_options=opts, parse_options=parse, convert_options=convert)
        except pa.ArrowInvalid as exc:
            raise FileRejected("file.unreadable", f"无法按 CSV 读取：{exc}") from exc
        next_row = 1
        pending: list[pa.RecordBatch] = []
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise FileRejected("file.unreadable", f"CSV 第 {next_row} 行附近无法解析：{exc}") from exc
            if self._invalid and not self._only_cut_last_line():
                raise NeedsExactReading()
            pending.append(batch)
            if sum(b.num_rows for b in pending) >= self.batch_rows:
                joined = _join_batches(pending)
                pending = []
                yield RawBatch(joined, np.arange(next_row, next_row + joined.num_rows, dtype=np.int64))
                next_row += joined.num_rows
        if pending:
            joined = _join_batches(pending)
            yield RawBatch(joined, np.arange(next_row, next_row + joined.num_rows, dtype=np.int64))
            next_row += joined.num_rows
        if self._invalid:
            if not self._only_cut_last_line():
                raise NeedsExactReading()
            expected, actual, text = self._invalid[0]
            self.row_issues.append(RowIssue(next_row, "row.truncated", _cut_line_reason(actual, expected), text))

    def _only_cut_last_line(self) -> bool:
        return (self.final_line_cut and len(self._invalid) == 1
                and self._invalid[0][2].strip("\r") == self._last_line)

    def _exact_batches(self) -> Iterator[RawBatch]:
        text = io.TextIOWrapper(self._open_stream(), encoding="utf-8", newline="")
        reader = csv.reader(text, delimiter=self.mapping.delimiter)
        for _ in range(self.mapping.header_row):
            next(reader, None)
        ncols = len(self.headers)
        columns: list[list[str]] = [[] for _ in range(ncols)]
        rows: list[int] = []
        row_no = 0
        pending_issue: RowIssue | None = None
        for record in reader:
            if not record:
                continue
            row_no += 1
            if pending_issue is not None:
                self.row_issues.append(pending_issue)
                pending_issue = None
            if len(record) != ncols:
                pending_issue = RowIssue(row_no, "row.columns",
                                         f"该行有 {len(record)} 列，表头有 {ncols} 列（分隔符多余或缺失、引号不配对）",
                                         self.mapping.delimiter.join(record))
                continue
            for col, value in zip(columns, record):
                col.append(value)
            rows.append(row_no)
            if len(rows) >= self.batch_rows:
                yield self._exact_batch(columns, rows)
                columns = [[] for _ in range(ncols)]
                rows = []
        if pending_issue is not None:
            if self.final_line_cut and pending_issue.row == row_no:
                pending_issue = RowIssue(pending_issue.row, "row.truncated",
                                         _cut_line_reason(len(pending_issue.text.split(self.mapping.delimiter)), ncols),
                                         pending_issue.text)
            self.row_issues.append(pending_issue)
        if rows:
            yield self._exact_batch(columns, rows)

    def _exact_batch(self, columns: list[list[str]], rows: list[int]) -> RawBatch:
        arrays = [pa.array([v if v != "" else None for v in col], pa.string()) for col in columns]
        return RawBatch(pa.RecordBatch.from_arrays(arrays, names=self.headers), np.array(rows, dtype=np.int64))

    def close(self) -> None:
        self._file.close()


def _cut_line_reason(actual: int, expected: int) -> str:
    return (f"最后一行不完整（{actual} 列，应为 {expected} 列）且文件末尾没有换行符：文件可能在传输中被截断，"
            "请重新报送完整文件")


# --- Excel --------------------------------------------------------------------------------------


def cell_text(value) -> str | None:
    """An Excel cell as the text a person sees (dates as YYYY-MM-DD, whole numbers without .0)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        # Excel keeps 15 significant digits; more would show binary noise (0.30000000000000004).
        text = format(value, ".15g")
        if "e" in text:
            text = format(value, ".15f").rstrip("0").rstrip(".")
        return text
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class ExcelReader(Reader):
    """The first sheet (or the mapping's ``sheet``) of an .xlsx workbook, streamed row by row."""

    def __init__(self, path: Path, mapping: Mapping):
        super().__init__(path, mapping)
        _check_size(path)
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            self._wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, InvalidFileException, ValueError) as exc:
            raise FileRejected(
                "file.damaged",
                f"不是有效的 Excel (.xlsx) 文件：可能已损坏、被截断或是旧版 .xls（{exc}）；请另存为 .xlsx 后重新报送",
            ) from exc
        try:
            header = self._open_sheet(mapping)
        except BaseException:
            self._wb.close()
            raise
        headers = [cell_text(v) or "" for v in header]
        while headers and not headers[-1].strip():
            headers.pop()
        self.headers = [h.strip() for h in headers]
        self.progress_total = self._ws.max_row or 0
        self._done = self._row_no
        self._cache: list[RawBatch] | None = None
        self._cached_issues: list[RowIssue] = []

    def _open_sheet(self, mapping: Mapping):
        """Select the sheet and return its header row (raises FileRejected)."""
        sheet = mapping.sheet
        if sheet is None:
            self._ws = self._wb.worksheets[0]
        elif isinstance(sheet, int):
            if not 1 <= sheet <= len(self._wb.worksheets):
                raise FileRejected("file.sheet", f"工作簿没有第 {sheet} 个工作表")
            self._ws = self._wb.worksheets[sheet - 1]
        else:
            if sheet not in self._wb.sheetnames:
                raise FileRejected("file.sheet", f"工作簿中没有名为“{sheet}”的工作表（现有：{'、'.join(self._wb.sheetnames)}）")
            self._ws = self._wb[sheet]
        self._rows = self._ws.iter_rows(values_only=True)
        self._row_no = 0
        header = None
        for values in self._rows:
            self._row_no += 1
            if self._row_no == mapping.header_row:
                header = values
                break
        if header is None or not any(v is not None and str(v).strip() for v in header):
            raise FileRejected("file.empty", f"工作表“{self._ws.title}”第 {mapping.header_row} 行没有表头：工作表为空或表头位置不对")
        return header

    @property
    def progress_done(self) -> int:
        return self._done

    def batches(self, columns: list[str] | None = None) -> Iterator[RawBatch]:
        """Excel lists are small (a sheet holds at most 1,048,576 rows) and slow to parse, so the
        first pass keeps its batches and later passes replay them."""
        if self._cache is None:
            return self._first_pass()
        self.row_issues = list(self._cached_issues)
        return iter(self._cache)

    def _first_pass(self) -> Iterator[RawBatch]:
        cache: list[RawBatch] = []
        for batch in _with_lookahead(self._batches()):
            cache.append(batch)
            yield batch
        self._cache = cache
        self._cached_issues = list(self.row_issues)

    def _batches(self) -> Iterator[RawBatch]:
        ncols = len(self.headers)
        columns: list[list[str | None]] = [[] for _ in range(ncols)]
        rows: list[int] = []
        for values in self._rows:
            self._row_no += 1
            self._done = self._row_no
            texts = [cell_text(v) for v in values]
            if not any(t is not None and t.strip() for t in texts):
                continue
            extra = [t for t in texts[ncols:] if t is not None and t.strip()]
            if extra:
                self.row_issues.append(RowIssue(self._row_no - self.mapping.header_row, "row.columns",
                                                f"该行在表头以外的列还有内容（{len(extra)} 个单元格），请核对列是否错位",
                                                "\t".join(t or "" for t in texts)))
                continue
            texts += [None] * (ncols - len(texts))
            for col, t in zip(columns, texts):
                col.append(t.strip() if isinstance(t, str) and t.strip() else None)
            rows.append(self._row_no - self.mapping.header_row)
            if len(rows) >= EXCEL_BATCH_ROWS:  # read at call time, so tests can make batches small
                yield self._batch(columns, rows)
                columns = [[] for _ in range(ncols)]
                rows = []
        if rows:
            yield self._batch(columns, rows)

    def _batch(self, columns, rows) -> RawBatch:
        arrays = [pa.array(c, pa.string()) for c in columns]
        names = [h or f"(第 {i + 1} 列)" for i, h in enumerate(self.headers)]
        return RawBatch(pa.RecordBatch.from_arrays(arrays, names=names), np.array(rows, dtype=np.int64))

    def close(self) -> None:
        self._wb.close()


# --- Parquet ------------------------------------------------------------------------------------


class ParquetReader(Reader):
    """A Parquet file, read in record batches; text columns of few distinct values stay
    dictionary-encoded so each distinct value is validated once."""

    def __init__(self, path: Path, mapping: Mapping):
        super().__init__(path, mapping)
        _check_size(path)
        self.batch_rows = PARQUET_BATCH_ROWS
        try:
            meta = pq.ParquetFile(path)
            self.headers = list(meta.schema_arrow.names)
            dict_cols = [h for h in self.headers if self._wants_dictionary(h, meta.schema_arrow.field(h).type)]
            meta.close()
            # pre_buffer would cache the byte ranges of every row group read so far: memory
            # would grow with the file. Without it, memory stays at about one batch.
            self._pf = pq.ParquetFile(path, read_dictionary=dict_cols, pre_buffer=False)
        except (pa.ArrowInvalid, OSError) as exc:
            raise FileRejected(
                "file.truncated",
                f"Parquet 文件已截断或损坏（文件尾缺失或无效：{exc}）；请重新导出并完整报送",
            ) from exc
        self.progress_total = self._pf.metadata.num_rows
        self._done = 0

    def _wants_dictionary(self, header: str, typ: pa.DataType) -> bool:
        if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            return False
        folded = normalise_header(header)
        return any(folded in c.headers and c.type in _TEXT_TYPES for c in self.mapping.columns)

    @property
    def progress_done(self) -> int:
        return self._done

    def batches(self, columns: list[str] | None = None) -> Iterator[RawBatch]:
        return _with_lookahead(self._batches(columns))

    def _batches(self, columns: list[str] | None) -> Iterator[RawBatch]:
        start = 1
        self._done = 0
        pending: list[pa.RecordBatch] = []
        for batch in self._row_groups(columns):
            pending.append(batch)
            if sum(b.num_rows for b in pending) >= self.batch_rows:
                yield self._joined(pending, start)
                start += sum(b.num_rows for b in pending)
                pending = []
        if pending:
            yield self._joined(pending, start)

    def _joined(self, batches: list[pa.RecordBatch], start: int) -> RawBatch:
        """Small row groups joined into one batch (fewer, larger vectorised steps)."""
        batch = _join_batches(batches)
        self._done = start - 1 + batch.num_rows
        return RawBatch(batch, np.arange(start, start + batch.num_rows, dtype=np.int64))

    def _row_groups(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        iterator = self._pf.iter_batches(batch_size=self.batch_rows, columns=columns, use_threads=True)
        read = 0
        while True:
            try:
                batch = next(iterator)
            except StopIteration:
                return
            except (pa.ArrowInvalid, OSError) as exc:
                raise FileRejected(
                    "file.damaged",
                    f"Parquet 文件第 {read + 1} 行之后的数据损坏（{exc}）；请重新导出并完整报送",
                ) from exc
            read += batch.num_rows
            yield batch

    def close(self) -> None:
        self._pf.close()


def open_reader(path: Path, mapping: Mapping, exact_csv: bool = False) -> Reader:
    """The reader for a file of this mapping's format (raises :class:`FileRejected`)."""
    path = Path(path)
    if mapping.format == "csv":
        return CsvReader(path, mapping, exact=exact_csv)
    if mapping.format == "excel":
        return ExcelReader(path, mapping)
    return ParquetReader(path, mapping)
