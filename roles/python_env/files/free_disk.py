"""Print free bytes on the filesystem that will hold a path, and what the path already holds.

    free_disk.py PATH [NEED_GIB]

Read-only probe, stdlib only. "used" lets a re-run ask only for what a first install would
still add: a converged venv already holds most of the profile's requirement. Counting it walks
every file, so it stops as soon as free plus used reaches NEED_GIB (at once on a re-run with
room to spare); without NEED_GIB it counts everything.
"""

import contextlib
import json
import os
import shutil
import sys

wanted = os.path.abspath(sys.argv[1])
need = float(sys.argv[2]) * 1024**3 if len(sys.argv) > 2 else float("inf")
path = wanted
# The path may not exist yet: measure its nearest existing parent.
while not os.path.exists(path):
    path = os.path.dirname(path)

free = shutil.disk_usage(path).free
used = 0
if path == wanted and os.path.isdir(wanted):
    for root, _dirs, files in os.walk(wanted):
        if free + used >= need:
            break
        for name in files:
            # A file removed while we walked holds nothing now.
            with contextlib.suppress(OSError):
                used += os.lstat(os.path.join(root, name)).st_blocks * 512
print(json.dumps({"path": path, "free": free, "used": used}))
