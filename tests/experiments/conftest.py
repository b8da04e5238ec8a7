from pathlib import Path

import pytest
from synthetic import write_results


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A synthetic results directory (synthetic.write_results): fig2, fig5 and appB."""
    return write_results(tmp_path)
