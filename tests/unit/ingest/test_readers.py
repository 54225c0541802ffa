from __future__ import annotations

import pandas as pd

from precimed.ingest.readers import read_csv, read_file
from precimed.reports.problems import Report


def report() -> Report:
    return Report("s", "SH01", "p")


def test_gbk_and_bom_files_decode_to_the_same_text(tmp_path):
    text = "姓名,性别\n张三,男\n"
    (tmp_path / "gbk.csv").write_bytes(text.encode("gbk"))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    for name in ("gbk.csv", "bom.csv"):
        raw = read_csv(tmp_path / name, name, r := report())
        assert r.problem_count == 0
        assert raw.table.column_names == ["姓名", "性别"]
        assert raw.table.column("性别").to_pylist() == ["男"]


def test_bad_row_shape_is_reported_with_its_row_and_the_rest_is_numbered(tmp_path):
    (tmp_path / "f.csv").write_text("a,b\n1,2\n3,4,5\n6,7\n")
    raw = read_csv(tmp_path / "f.csv", "f.csv", r := report())
    assert [p.row for p in r.problems] == [3]
    assert raw.rows.to_pylist() == [2, 4]


def test_undecodable_bytes_give_a_clear_problem(tmp_path):
    (tmp_path / "f.csv").write_bytes(b"a,b\n\xff\xfe\xfa,1\n" + bytes(range(128, 256)))
    assert read_csv(tmp_path / "f.csv", "f.csv", r := report()) is None
    assert r.problems[0].kind == "encoding"


def test_xlsx_dates_and_numbers_become_text(tmp_path):
    frame = pd.DataFrame({"d": pd.to_datetime(["2019-03-05"]), "n": [5.0], "s": ["x"]})
    frame.to_excel(tmp_path / "f.xlsx", index=False, engine="xlsxwriter")
    raw = read_file(tmp_path / "f.xlsx", "f.xlsx", r := report())
    assert r.problem_count == 0
    assert raw.table.to_pylist() == [{"d": "2019-03-05", "n": "5", "s": "x"}]
    assert raw.rows.to_pylist() == [2]


def test_duplicate_headers_and_unknown_formats_are_refused(tmp_path):
    (tmp_path / "f.csv").write_text("a,a\n1,2\n")
    assert read_csv(tmp_path / "f.csv", "f.csv", r := report()) is None
    assert r.problems[0].kind == "header"
    (tmp_path / "f.pdf").write_text("x")
    assert read_file(tmp_path / "f.pdf", "f.pdf", r2 := report()) is None
    assert r2.problems[0].kind == "file_format"
