"""``python -m hotcrm_ai_plugins.train --data DIR --out DIR``."""

from hotcrm_ai_plugins.train import main

raise SystemExit(main())
