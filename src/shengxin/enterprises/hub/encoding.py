"""Text encodings of delivered CSV files: BOM detection, GBK/UTF-8 sniffing, streaming transcoding.

Rules:

* a byte-order mark decides (UTF-8, UTF-16 LE/BE), whatever the mapping says;
* ``auto``: UTF-8 if the first megabyte is valid UTF-8, otherwise GB18030 (a superset of GBK);
* bytes that are not valid in the chosen encoding never stop the file: they become U+FFFD and the
  rows holding them are quarantined with a reason (the validator checks for U+FFFD).

The reader decides between the declared encoding and the other one by the header row (see
:mod:`shengxin.enterprises.hub.readers`), so a GBK file delivered as UTF-8 is read correctly with a
warning rather than turned into mojibake.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass

BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Names users see for the codecs we use.
LABELS = {"utf-8": "UTF-8", "gb18030": "GBK/GB18030", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}


def codec_of(declared: str) -> str:
    """Python codec for a mapping's encoding name (GBK is read as its superset GB18030)."""
    return {"gbk": "gb18030", "gb18030": "gb18030", "utf-8": "utf-8", "utf-16": "utf-16-le"}.get(declared, declared)


def detect_bom(head: bytes) -> tuple[str | None, int]:
    """The encoding announced by a byte-order mark and the mark's length, or ``(None, 0)``."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return name, len(bom)
    return None, 0


def is_utf8(sample: bytes) -> bool:
    """Whether ``sample`` (possibly cut in the middle of a character) is valid UTF-8."""
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class EncodingChoice:
    codec: str
    bom_length: int
    reason: str  # how it was decided, for messages

    @property
    def label(self) -> str:
        return LABELS.get(self.codec, self.codec)


def candidates(head: bytes, declared: str) -> list[EncodingChoice]:
    """Encodings to try, most likely first."""
    bom, length = detect_bom(head)
    if bom:
        return [EncodingChoice(bom, length, "byte-order mark")]
    utf8 = EncodingChoice("utf-8", 0, "detected")
    gbk = EncodingChoice("gb18030", 0, "detected")
    if declared == "auto":
        return [utf8, gbk] if is_utf8(head) else [gbk, utf8]
    first = EncodingChoice(codec_of(declared), 0, "declared")
    others = [c for c in (utf8, gbk) if c.codec != first.codec]
    return [first, *others]


class Utf8Stream(io.RawIOBase):
    """A readable binary stream of UTF-8 produced from ``raw`` decoded with ``codec``.

    Invalid input bytes become U+FFFD (``replaced`` turns true). ``bytes_read`` counts input
    bytes, for progress bars. Memory is bounded by ``chunk_size``.
    """

    def __init__(self, raw, codec: str, skip: int = 0, chunk_size: int = 1 << 22):
        super().__init__()
        self._raw = raw
        self._raw.seek(skip)
        self._decoder = codecs.getincrementaldecoder(codec)("replace")
        self._passthrough = codec == "utf-8"
        self._pending = b""
        self._carry = b""
        self._chunk = chunk_size
        self._eof = False
        self.bytes_read = skip
        self.replaced = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        data = self._raw.read(self._chunk)
        self.bytes_read += len(data)
        final = not data
        if final:
            self._eof = True
        text = self._decoder.decode(data, final=final)
        if "\ufffd" in text:
            self.replaced = True
        if self._passthrough:
            # UTF-8 in, UTF-8 out: pass valid bytes through untouched; an incomplete character at
            # the end of the chunk waits (in the decoder and in _carry) for the next chunk.
            buf = self._carry + data
            tail = len(self._decoder.getstate()[0])
            self._carry = buf[len(buf) - tail:] if tail else b""
            self._pending += text.encode("utf-8") if "\ufffd" in text else buf[: len(buf) - tail]
            return
        self._pending += text.encode("utf-8")

    def readinto(self, buffer) -> int:
        """Fill ``buffer`` completely unless the input ends: readers such as ``pyarrow.csv`` take
        a short read as the size of their next block."""
        while len(self._pending) < len(buffer) and not self._eof:
            self._fill()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
