"""Run inside a backend's venv (by tests/test_counters.py): the operator-level counters on a tiny
module with a matrix product and an attention call, whose MACs are counted by hand there.

usage: counter_checks.py -> prints one JSON object with each counter's record.
"""
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "workflow" / "scripts"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from posebench.measure.complexity import count_with_mmengine, count_with_torch  # noqa: E402


class MatmulAttention(torch.nn.Module):
    """(1, 3, 4, 8) -> 3 tokens of 32 -> a 32x16 projection -> self-attention over the 3 tokens."""

    def __init__(self):
        super().__init__()
        self.projection = torch.nn.Parameter(torch.randn(32, 16))

    def forward(self, images):
        tokens = images.flatten(2) @ self.projection
        heads = tokens.view(1, 1, 3, 16)
        return F.scaled_dot_product_attention(heads, heads, heads)


model = MatmulAttention().eval()
print(json.dumps({"torch": count_with_torch(model, (3, 4, 8)), "mmengine": count_with_mmengine(model, (3, 4, 8))}))
