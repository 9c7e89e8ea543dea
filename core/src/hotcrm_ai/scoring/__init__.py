"""Columnar scoring: whole tables through a model at numpy speed (``AICloud.score``), in this process
(the ``local`` engine) or on a cluster (engines are plugins, e.g. ``hotcrm-ai-dask``).

Nothing here imports pyarrow until a table is actually scored: ``import hotcrm_ai`` stays fast.
"""

from __future__ import annotations

from hotcrm_ai.scoring.output import ColumnOutput
from hotcrm_ai.scoring.records import ChunkRecord

__all__ = ["ChunkRecord", "ColumnOutput"]
