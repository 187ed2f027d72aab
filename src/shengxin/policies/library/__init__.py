"""The policy library: real policies encoded as rules (``real/*.yaml``) and the demo generator.

``real_policies()`` lists the shipped real policies (each with its test cases); ``generate`` (in
:mod:`.generate`) makes the 744-policy demo library. Both are plain policy files: nothing here is
special-cased by the matcher.
"""

from __future__ import annotations

from importlib import resources


def real_policy_files() -> list[tuple[str, str]]:
    """``(file name, text)`` of every shipped real policy, sorted by name."""
    folder = resources.files("shengxin.policies.library") / "real"
    return sorted((p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".yaml"))
