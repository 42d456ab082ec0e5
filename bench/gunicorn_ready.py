"""The production `gunicorn.conf.py`, plus one hook for the benches: each worker, once it has
loaded the app, touches a file named by its pid in `WEB_READY_DIR`.

The master's socket accepts connections before any worker has loaded Django, and a kept-alive
connection stays with the worker that accepted it: 500 clients opening their pages on freshly
started servers went 299, 132 and 69 to the three workers, in the order the workers came up,
and the first of them served the release nearly alone. A release meets servers that have long
been up, so bench/http_rush.py sends nothing until every worker has said it is ready."""

import os
import runpy
from pathlib import Path

PRODUCTION = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
globals().update(
    (name, value)
    for name, value in runpy.run_path(str(PRODUCTION)).items()
    if not name.startswith("__")
)


def post_worker_init(worker) -> None:
    (Path(os.environ["WEB_READY_DIR"]) / str(worker.pid)).touch()
