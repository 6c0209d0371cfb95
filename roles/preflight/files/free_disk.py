"""Print free bytes on the filesystem that will hold a path, and what the path already holds.

Read-only probe, stdlib only. "used" lets a re-run ask only for what a first install would
still add: a converged venv already holds most of the profile's requirement.
"""

import json
import os
import shutil
import sys

wanted = os.path.abspath(sys.argv[1])
path = wanted
# The path may not exist yet: measure its nearest existing parent.
while not os.path.exists(path):
    path = os.path.dirname(path)

used = 0
if path == wanted and os.path.isdir(wanted):
    for root, _dirs, files in os.walk(wanted):
        for name in files:
            try:
                used += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass  # removed while we walked: it holds nothing now
print(json.dumps({"path": path, "free": shutil.disk_usage(path).free, "used": used}))
