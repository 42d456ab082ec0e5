import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The heartbeat file that says the worker consumes (portal/liveness.py); imported lazily by
# Celery, after Django's settings are configured.
app.steps["consumer"].add("portal.liveness:LivenessHeartbeat")

# The filesystem transport (no REDIS_URL) needs its folders before the first message.
_options = app.conf.broker_transport_options or {}
for _key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
    if _options.get(_key):
        Path(_options[_key]).mkdir(parents=True, exist_ok=True)
