"""The mutation table's counting, on .meta files of mutmut's shape."""

import json

from intdim.measure.mutation import markdown, status, survivors, tally


def test_exit_codes_map_to_mutmuts_verdicts():
    assert [status(c) for c in (1, 3, 0, None, 36, 5)] == [
        "killed", "killed", "survived", "not checked", "timeout", "other"]  # fmt: skip


def test_table_counts_per_module_and_lists_survivors(tmp_path):
    meta = tmp_path / "pkg" / "d90.py.meta"
    meta.parent.mkdir()
    codes = {"pkg.d90.x__mutmut_1": 1, "pkg.d90.x__mutmut_2": 0, "pkg.d90.x__mutmut_3": 36,
             "pkg.d90.x__mutmut_4": None}  # fmt: skip
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    table = tally(tmp_path)
    assert table["pkg/d90.py"]["killed"] == 1 and table["pkg/d90.py"]["timeout"] == 1
    # killed 2 (one by timeout) of 3 checked: 67%
    assert markdown(table).splitlines()[2] == "| pkg/d90.py | 4 | 2 | 1 | 1 | 67 |"
    assert survivors(tmp_path) == {"pkg/d90.py": ["pkg.d90.x__mutmut_2"]}
