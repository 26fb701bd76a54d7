"""The operator-level FLOP counters (MACs) against a count made by hand."""
import json
import subprocess

from conftest import REPO

# the projection: 3 tokens x 32 x 16; attention: Q K^T is 3 x 16 x 3, then A V is 3 x 3 x 16
PROJECTION_MACS = 3 * 32 * 16
ATTENTION_MACS = 3 * 16 * 3 + 3 * 3 * 16


def counts():
    python = REPO / ".venvs" / "mmpose1" / "bin" / "python"
    run = subprocess.run([str(python), str(REPO / "tests" / "backend" / "counter_checks.py")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_operator_level_counters_see_matrix_products_and_attention():
    found = counts()
    torch_count = found["torch"]
    # PyTorch's counter has no formula for the CPU attention kernel; posebench adds it
    assert torch_count["flops"] == PROJECTION_MACS + ATTENTION_MACS
    assert torch_count["macs_by_operator"] == {
        "aten.mm": PROJECTION_MACS, "aten._scaled_dot_product_flash_attention_for_cpu": ATTENTION_MACS,
    }
    assert torch_count["uncounted_operators"] == {} and torch_count["params"] == 32 * 16
    # mmengine's traced count sees the product but not the attention, and says so
    mmengine_count = found["mmengine"]
    assert mmengine_count["flops"] == PROJECTION_MACS
    assert mmengine_count["uncounted_operators"] == {"aten::scaled_dot_product_attention": 1}
