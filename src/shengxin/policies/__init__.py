"""Policies as tested rules: definitions (YAML), compilation to the engine, matching, pushes.

Modules, in the order a policy passes through them:

* :mod:`.definition` — the YAML format officers write, parsed into plain dataclasses;
* :mod:`.conditions`, :mod:`.amounts` — typed conditions and amount formulas compiled to engine IR;
* :mod:`.compile` — a whole policy: validation (errors name the policy, the condition, a fix);
* :mod:`.evaluate` — one enterprise: pass / fail / unknown per condition, the amount;
* :mod:`.sql` — every enterprise at once: SQLGlot over the engine's condition matrix;
* :mod:`.text` — the conditions as plain Simplified Chinese;
* :mod:`.testing` — the policy's own test cases, run through both the evaluator and SQL;
* :mod:`.models`, :mod:`.service`, :mod:`.states` — versions and workflow in the operational store;
* :mod:`.matching`, :mod:`.impact`, :mod:`.pushes` — snapshots, the sandbox, notifications.
"""
