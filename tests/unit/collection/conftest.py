import sys
from pathlib import Path

# The tarball maker that tests/target/collection.sh uses too.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "target"))
