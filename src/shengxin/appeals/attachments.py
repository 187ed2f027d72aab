"""Appeal attachments: allowed types, size limits, storage under the data directory.

Rules:
* allowed: PDF, JPEG, PNG, Word/Excel/PowerPoint (97-2003 and OOXML); the file's first bytes must
  match its extension (a renamed executable is refused);
* at most ``appeal_attachment_max_count`` files of at most ``appeal_attachment_max_bytes`` each;
* a file is stored as ``<data_dir>/appeals/attachments/<yyyy>/<mm>/<random hex>.<ext>``; the
  uploaded name is kept only for display (path parts and control characters removed) and never
  used to build a path.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shengxin.errors import InvalidInput, NotFound

#: extension → (content type, accepted leading bytes)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "ppt": ("application/vnd.ms-powerpoint", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
}
ALLOWED_LABEL = "PDF、JPG、PNG、Word、Excel、PowerPoint"
_STORED = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}\.[a-z]{3,4}$")


@dataclass(frozen=True)
class Upload:
    """A file as received: the name the client gave and its bytes."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class CheckedUpload:
    display_name: str
    extension: str
    content_type: str
    content: bytes
    sha256: str


def display_name(filename: str) -> str:
    """The uploaded name reduced to a harmless label: last path part, no control characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return name[:200] or "附件"


def check_upload(upload: Upload, max_bytes: int, index: int = 0) -> CheckedUpload:
    """Validate one file; errors say which file and what to do."""
    where = f"attachments[{index}] {display_name(upload.filename)}"
    name = display_name(upload.filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED:
        raise InvalidInput(f"不支持的附件类型“.{ext or '无扩展名'}”，仅支持 {ALLOWED_LABEL}", where=where)
    if not upload.content:
        raise InvalidInput("附件是空文件", where=where)
    if len(upload.content) > max_bytes:
        raise InvalidInput(f"附件大小 {len(upload.content) / 1048576:.1f} MB 超过上限 "
                           f"{max_bytes / 1048576:.0f} MB，请压缩或拆分后上传", where=where)
    content_type, magics = ALLOWED[ext]
    if not any(upload.content.startswith(m) for m in magics):
        raise InvalidInput(f"文件内容与扩展名 .{ext} 不符，请上传真实的 {ALLOWED_LABEL} 文件", where=where)
    return CheckedUpload(name, ext, content_type, upload.content, hashlib.sha256(upload.content).hexdigest())


def check_uploads(uploads: list[Upload], max_bytes: int, max_count: int) -> list[CheckedUpload]:
    uploads = [u for u in uploads if u.filename or u.content]
    if len(uploads) > max_count:
        raise InvalidInput(f"最多上传 {max_count} 个附件，收到 {len(uploads)} 个", where="attachments")
    return [check_upload(u, max_bytes, i) for i, u in enumerate(uploads)]


def attachments_dir(data_dir: Path) -> Path:
    return data_dir / "appeals" / "attachments"


def store(data_dir: Path, checked: CheckedUpload, now: datetime) -> str:
    """Write the file under a generated name; returns the stored name (relative path)."""
    relative = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}.{checked.extension}"
    path = attachments_dir(data_dir) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(checked.content)
    tmp.replace(path)
    return relative


def open_stored(data_dir: Path, stored_name: str) -> Path:
    """The path of a stored attachment (only names this module generated are accepted)."""
    if not _STORED.match(stored_name):
        raise NotFound("附件不存在")
    path = attachments_dir(data_dir) / stored_name
    if not path.is_file():
        raise NotFound("附件文件不存在（可能已被归档）")
    return path
