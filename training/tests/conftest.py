import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def node():
    from training.node_bridge import node_available

    reason = node_available()
    if reason:
        pytest.skip(reason)
    return True
