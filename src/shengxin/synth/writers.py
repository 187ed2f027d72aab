"""File writers for the delivery formats: CSV (GBK, UTF-8, UTF-8 with BOM), Parquet and Excel.

All writers stream: tables are appended block by block, so the big monthly files never sit in
memory whole. All output is byte-for-byte reproducible: CSV and Parquet carry no timestamps, and
Excel files are re-packed with fixed zip timestamps and fixed document-property dates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

BOM = b"\xef\xbb\xbf"
ENCODINGS = ("gbk", "utf-8", "utf-8-sig")
_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="needed", batch_size=65536)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_GBK_SLICE = 50_000


class CsvWriter:
    """Append tables of text columns to a CSV file in one of :data:`ENCODINGS`.

    The header is written once, unquoted, as departments' own exports have it. pyarrow quotes
    every text value (RFC 4180 style), which CSV readers read exactly like unquoted values.
    """

    def __init__(self, path: Path, columns: list[str], encoding: str):
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, not {encoding!r}")
        self.path, self.columns, self.encoding = Path(path), list(columns), encoding
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self._fh = open(self.path, "wb")
        if encoding == "utf-8-sig":
            self._fh.write(BOM)
        self._write_text(",".join(self.columns) + "\n")

    def _write_text(self, text: str) -> None:
        self._fh.write(text.encode("gbk" if self.encoding == "gbk" else "utf-8"))

    def write(self, table: pa.Table) -> None:
        if table.column_names != self.columns:
            raise ValueError(f"{self.path.name}: columns {table.column_names} != {self.columns}")
        if table.num_rows == 0:
            return
        if self.encoding == "gbk":
            # transcode in slices so that a big registry never sits in memory as one string
            for start in range(0, table.num_rows, _GBK_SLICE):
                buf = io.BytesIO()
                pacsv.write_csv(table.slice(start, _GBK_SLICE), buf, _CSV_OPTIONS)
                self._fh.write(buf.getvalue().decode("utf-8").encode("gbk"))
        else:
            pacsv.write_csv(table, self._fh, _CSV_OPTIONS)
        self.rows += table.num_rows

    def close(self) -> None:
        self._fh.close()


class ParquetWriter:
    """Append tables to a Parquet file (zstd, one row group per appended block)."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self._writer = pq.ParquetWriter(self.path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()


def write_xlsx(
    path: Path,
    table: pa.Table,
    sheet: str,
    dates: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    stamp: dt.datetime = dt.datetime(2000, 1, 1),
) -> int:
    """Write a table of text columns as one Excel sheet (openpyxl write-only mode).

    Cells of ``dates`` columns holding a valid ISO date become Excel dates and cells of
    ``numbers`` columns holding a plain number become numbers, as a department's own sheet would
    have them; anything else (including defects such as ``2023-02-30`` or ``1,200``) stays text.
    Returns the number of data rows.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    wb.properties.creator = "shengxin synth"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    ws = wb.create_sheet(sheet)
    columns = table.column_names
    ws.append(columns)
    kinds = ["date" if c in dates else "number" if c in numbers else "text" for c in columns]
    data = [table.column(c).to_pylist() for c in columns]
    for values in zip(*data):
        row = []
        for kind, value in zip(kinds, values):
            if value is None or value == "":
                row.append(None)
            elif kind == "date" and _ISO_DATE.match(value):
                try:
                    day = dt.date.fromisoformat(value)
                except ValueError:
                    row.append(value)
                    continue
                cell = WriteOnlyCell(ws, value=day)
                cell.number_format = "yyyy-mm-dd"
                row.append(cell)
            elif kind == "number" and _PLAIN_NUMBER.match(value):
                row.append(float(value))
            else:
                row.append(value)
        ws.append(row)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    _repack_reproducibly(tmp, path, stamp)
    tmp.unlink()
    return table.num_rows


def _repack_reproducibly(src: Path, dst: Path, stamp: dt.datetime) -> None:
    """Copy a zip with fixed entry timestamps and fixed core-property dates."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + iso + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zout.writestr(entry, data)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
