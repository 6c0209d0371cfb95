import sys
from pathlib import Path

# The doctor's test helpers (doctor_fakes.py) live next to the tests.
sys.path.insert(0, str(Path(__file__).parent))


import datetime  # noqa: E402

import pytest  # noqa: E402

from dlcheck.doctor.context import Context  # noqa: E402

# Driver branches reach their end of life on dates: the doctor's tests judge on one day.
TODAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(Context, "today", lambda self: self.options.today or TODAY)
