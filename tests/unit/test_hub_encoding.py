"""Encodings of delivered text and Excel cell text (in memory, no files)."""

from __future__ import annotations

import codecs
import datetime as dt
import io

import pytest

from shengxin.enterprises.hub.encoding import Utf8Stream, candidates, detect_bom
from shengxin.enterprises.hub.readers import cell_text

TEXT = "统一社会信用代码,企业名称\n91330110MA2AAAAAA1,杭州余杭科技有限公司\n" * 50


def test_byte_order_marks_decide():
    assert detect_bom(codecs.BOM_UTF8 + b"a") == ("utf-8", 3)
    assert detect_bom(codecs.BOM_UTF16_LE + b"a") == ("utf-16-le", 2)
    assert detect_bom(b"abc") == (None, 0)
    [only] = candidates(codecs.BOM_UTF8 + TEXT.encode(), "gbk")
    assert only.codec == "utf-8" and only.bom_length == 3


def test_auto_detection_and_declared_order():
    assert [c.codec for c in candidates(TEXT.encode("utf-8"), "auto")] == ["utf-8", "gb18030"]
    assert [c.codec for c in candidates(TEXT.encode("gbk"), "auto")] == ["gb18030", "utf-8"]
    assert [c.codec for c in candidates(TEXT.encode("utf-8"), "gbk")] == ["gb18030", "utf-8"]
    # A sample cut inside a multi-byte character is still recognised as UTF-8.
    assert candidates(TEXT.encode("utf-8")[:100], "auto")[0].codec == "utf-8"


@pytest.mark.parametrize("encoding, codec", [("utf-8", "utf-8"), ("gbk", "gb18030"), ("utf-16-le", "utf-16-le")])
@pytest.mark.parametrize("chunk", [1, 3, 7, 4096])
def test_stream_transcodes_to_utf8_across_chunk_boundaries(encoding, codec, chunk):
    stream = Utf8Stream(io.BytesIO(TEXT.encode(encoding)), codec, chunk_size=chunk)
    assert stream.read().decode("utf-8") == TEXT
    assert not stream.replaced


def test_invalid_bytes_become_replacement_characters():
    data = "a,中\n".encode() + b"\xff\xfe" + "b,文\n".encode()
    stream = Utf8Stream(io.BytesIO(data), "utf-8", chunk_size=2)
    assert stream.read().decode("utf-8") == "a,中\n\ufffd\ufffdb,文\n"
    assert stream.replaced
    bom = Utf8Stream(io.BytesIO(codecs.BOM_UTF8 + b"x"), "utf-8", skip=3)
    assert bom.read() == b"x" and bom.bytes_read == 4


def test_excel_cells_as_people_see_them():
    assert cell_text(dt.datetime(2024, 3, 5)) == "2024-03-05"
    assert cell_text(dt.datetime(2024, 3, 5, 8, 30)) == "2024-03-05 08:30:00"
    assert cell_text(12.0) == "12" and cell_text(1234.56) == "1234.56"
    assert cell_text(0.1 + 0.2) == "0.3" and cell_text(1e-5) == "0.00001"
    assert cell_text(91330110) == "91330110" and cell_text(None) is None and cell_text(True) == "TRUE"
