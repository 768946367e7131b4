"""Files the package writes appear whole or not at all."""

import json

import pytest

from plotlstm.atomic import write_json


def test_write_json_is_atomic_and_leaves_no_temporary(tmp_path) -> None:
    path = write_json(tmp_path / "m.json", {"x": 1})
    assert json.loads(path.read_text()) == {"x": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
    with pytest.raises(TypeError):
        write_json(tmp_path / "m.json", {"x": object()})
    assert json.loads(path.read_text()) == {"x": 1}  # the old file is intact
