"""Payouts (兑现): no-application rounds, instant applications, a hash-chained ledger, bank files.

Modules: ``states`` (transition tables), ``rounds`` (the round workflow), ``publicity`` (public list,
objections), ``accounts`` (bank accounts), ``bankfile`` (payment and result files), ``reconcile``,
``clawback``, ``applications`` (即申即享), ``budget``, ``ledger`` (append, chain, verify, balances),
``stats``, ``demo``. See docs/payouts.md.
"""
