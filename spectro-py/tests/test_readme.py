"""Every ```python block of spectro-py/README.md runs as written."""
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example(code):
    if "SPECTRO_TEST_REGISTRY" in code and not os.environ.get("SPECTRO_TEST_REGISTRY"):
        if os.environ.get("SPECTRO_REQUIRE_REGISTRY"):
            raise RuntimeError("SPECTRO_REQUIRE_REGISTRY is set but the test registries are not")
        pytest.skip("no test registry (run scripts/test.sh)")
    exec(compile(code, str(README), "exec"), {})


def test_readme_has_examples():
    assert len(BLOCKS) >= 3
