"""Print the API's OpenAPI schema as JSON without starting anything.

The dashboard's TypeScript types are generated from this output (``npm run gen:api`` in ``web/``), so the
service's models are the one description of the API:
``python -m gpu_sentinel.api.openapi > web/openapi.json``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from gpu_sentinel.api.app import create_app
from gpu_sentinel.config import Settings


def openapi_json() -> str:
    """The schema of an app built over a throwaway data directory; building it opens no file or device."""
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(data_dir=Path(data_dir), simulate_gpus=1))
        return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    sys.stdout.write(openapi_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
