"""Where hotcrm-ai keeps a user's files when no configuration says otherwise."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """``$HOTCRM_AI_HOME`` when set (tox and tests set it), else the user's data directory."""
    home = os.environ.get("HOTCRM_AI_HOME")
    if home:
        return Path(home)
    import platformdirs

    return Path(platformdirs.user_data_dir("hotcrm-ai", appauthor=False))
