"""Chinese word segmentation for appeal texts: jieba plus the platform's domain dictionary.

Rules:
* text is normalised first: Unicode NFKC (full-width letters, digits and punctuation become
  half-width), ASCII lower-cased, whitespace collapsed;
* segmentation uses a private ``jieba.Tokenizer`` (never jieba's global one, so other code is not
  affected) with jieba's bundled dictionary plus ``appeals/data/jieba_userdict.txt`` — domain
  words such as 高新技术企业, 专精特新, 小巨人, 社保, 公积金 and 人才公寓 stay whole. Nothing is
  downloaded: jieba ships its dictionary and caches the parsed form in the temp directory;
* tokens made only of punctuation or spaces are dropped; a run of digits becomes ``#`` (amounts
  and dates vary without changing what an appeal is about); function words in :data:`STOPWORDS`
  are dropped by :func:`content_tokens` (used for similarity), not by :func:`tokens`.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from pathlib import Path

import jieba

USER_DICT = Path(__file__).resolve().parent.parent / "data" / "jieba_userdict.txt"

#: Function words and appeal boilerplate that say nothing about the problem.
STOPWORDS: frozenset[str] = frozenset(
    """的 了 是 在 我 我们 我司 本 本公司 公司 企业 你好 您好 请问 一下 一个 这个 那个 有 和 与 及 或
    也 都 就 还 又 把 被 对 给 让 从 向 到 为 为了 因为 所以 但是 但 而 如果 如何 怎么 怎么办 怎样 什么
    吗 呢 吧 啊 呀 哦 嗯 么 能 能否 可以 是否 需要 希望 麻烦 帮忙 谢谢 感谢 非常 比较 目前 现在 已经 一直
    领导 政府 相关 部门 有关 情况 问题 反映 咨询 请 帮 看看 这样 那么 该 其 之 等 个 些 很 太 最 更
    您 你 他 她 它 他们 这 那 上 下 中 里 后 前 时 时候 去 来 说 要 会 想 没有 没 不 不是 着 过 得 地
    任何 今天 知道 哪个 全部 以上 几次 之前 之后 然后 还是 还有 或者 另外 顺便 具体""".split()
)

_WS = re.compile(r"\s+")
_DIGITS = re.compile(r"^[0-9]+([.,][0-9]+)?$")
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def normalise(text: str) -> str:
    """NFKC, lower-case ASCII, single spaces, stripped."""
    text = unicodedata.normalize("NFKC", text)
    return _WS.sub(" ", text).strip().lower()


def _is_word(token: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def tokenizer() -> jieba.Tokenizer:
    """The shared tokenizer with the domain dictionary loaded (built once per process)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.load_userdict(str(USER_DICT))
                _tokenizer = tok
    return _tokenizer


def tokens(text: str) -> list[str]:
    """Words of ``text``: normalised, segmented with the domain dictionary, punctuation dropped."""
    out: list[str] = []
    for tok in tokenizer().lcut(normalise(text)):
        tok = tok.strip()
        if not tok or not _is_word(tok):
            continue
        out.append("#" if _DIGITS.match(tok) else tok)
    return out


def content_tokens(text: str) -> list[str]:
    """:func:`tokens` without stopwords and digit placeholders (for similarity of problems)."""
    return [t for t in tokens(text) if t != "#" and t not in STOPWORDS]


def user_dictionary_words() -> list[str]:
    """The words of the shipped domain dictionary, in file order."""
    words = []
    for line in USER_DICT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.append(line.split()[0])
    return words
