"""The data hub: department files in, validated enterprise facts out.

Public entry points:

* :func:`ingest` — ingest files and folders of deliveries, publish a new snapshot
  (:mod:`shengxin.enterprises.hub.run`);
* :func:`export_quarantine_xlsx` — the quarantine of a run as an Excel workbook to fix and re-send
  (:mod:`shengxin.enterprises.hub.quarantine`);
* :func:`load_mappings` — the delivery mappings (:mod:`shengxin.enterprises.hub.mapping`).

Readers of the facts use :mod:`shengxin.enterprises.store`. See ``docs/data-hub.md``.
"""

from shengxin.enterprises.hub.mapping import load_mappings
from shengxin.enterprises.hub.run import RunReport, ingest

__all__ = ["RunReport", "ingest", "load_mappings"]
