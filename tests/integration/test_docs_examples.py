"""Every ``console`` example in README.md and docs/ runs (the docs are tested, like the code).

A fenced block whose language is ``console`` holds commands prefixed with ``$ ``. The blocks of one
file run in order, in one fresh working directory with demo settings, so a file's later examples
may use what its earlier ones made. ``.venv/bin/shengxin`` runs as ``python -m shengxin``.
A command expected to fail ends with a comment ``# exit N``. Long-running commands (``shengxin serve``) belong in ``text`` blocks instead.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def commands(path: Path) -> list[str]:
    out = []
    for block in BLOCK.findall(path.read_text(encoding="utf-8")):
        out += [line[2:].strip() for line in block.splitlines() if line.startswith("$ ")]
    return out


DOCS_WITH_EXAMPLES = [p for p in doc_files() if commands(p)]


def test_readme_has_examples():
    assert ROOT / "README.md" in DOCS_WITH_EXAMPLES


@pytest.mark.parametrize("doc", DOCS_WITH_EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_run(doc, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(tmp_path / "data"))
    for cmd in commands(doc):
        expected = 0
        if m := re.search(r"\s+#\s*exit\s+(\d+)\s*$", cmd):
            expected, cmd = int(m.group(1)), cmd[: m.start()]
        argv = shlex.split(cmd)
        if argv[0].endswith("shengxin"):
            argv = [sys.executable, "-m", "shengxin", *argv[1:]]
        elif argv[0] == "python":
            argv[0] = sys.executable
        proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
        assert proc.returncode == expected, f"{doc.name}: `{cmd}` failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
