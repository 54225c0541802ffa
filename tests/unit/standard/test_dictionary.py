from __future__ import annotations

import re
from pathlib import Path

import pytest

from precimed.standard import (
    CENTRES,
    COHORTS,
    EXPOSURE_ITEMS,
    IDENTIFYING_FIELDS,
    MEASUREMENT_ITEMS,
    STANDARD_VERSION,
    SYSTEM_FIELDS,
    TABLES,
    vocabularies,
)
from precimed.standard import dictionary as dictionary_module
from precimed.standard.dictionary import LISTED_ELSEWHERE, write_dictionaries, write_dictionary
from precimed.standard.tables import Field, Table

LABEL = {"zh": 0, "en": 1}  # position in the standard's (zh, en) label pairs
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@pytest.fixture
def docs(tmp_path: Path) -> dict[str, str]:
    """The dictionary text per language, written into a fresh directory."""
    return {path.parent.name: path.read_text(encoding="utf-8")
            for path in write_dictionaries(tmp_path)}


def row_start(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def test_one_index_per_language(tmp_path: Path):
    paths = write_dictionaries(tmp_path)
    assert paths == [tmp_path / "zh" / "index.md", tmp_path / "en" / "index.md"]
    assert write_dictionary(tmp_path, language="en") == [tmp_path / "en" / "index.md"]


def test_unknown_language_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="language"):
        write_dictionary(tmp_path, language="fr")


def test_every_table_and_field_appears_in_both_languages(docs: dict[str, str]):
    for text in docs.values():
        assert STANDARD_VERSION in text
        for table in TABLES.values():
            assert f"(`{table.name}`)" in text, table.name
            for field in table.fields:
                assert f"| `{field.name}` |" in text, f"{table.name}.{field.name}"
        for field in (*IDENTIFYING_FIELDS, *SYSTEM_FIELDS):
            assert f"| `{field.name}` |" in text, field.name


def test_each_language_carries_its_own_labels(docs: dict[str, str]):
    for language, text in docs.items():
        for table in TABLES.values():
            assert f"## {getattr(table, language)} (`{table.name}`)" in text
            for field in table.fields:
                assert row_start(f"`{field.name}`", getattr(field, language)) in text, field.name
        for field in (*IDENTIFYING_FIELDS, *SYSTEM_FIELDS):
            assert row_start(f"`{field.name}`", getattr(field, language)) in text, field.name


def test_headings_are_translated(docs: dict[str, str]):
    for word in ("## 数据表", "字段", "类型", "必填", "词表", "说明", "## 身份标识字段",
                 "## 系统字段", "## 测量项目目录", "## 暴露项目目录", "## 队列", "## 中心"):
        assert word in docs["zh"], word
    for word in ("## Tables", "| Field |", "| Type |", "| Required |", "| Vocabulary |",
                 "## Identifying fields", "## System columns", "## Measurement catalogue",
                 "## Exposure catalogue", "## Cohorts", "## Centres"):
        assert word in docs["en"], word
    assert "必填" not in docs["en"] and "| Required |" not in docs["zh"]


def test_vocabulary_codes_are_listed_with_labels(docs: dict[str, str]):
    for language, text in docs.items():
        for name, vocab in vocabularies().items():
            if name in LISTED_ELSEWHERE:
                continue
            for code, labels in vocab.codes.items():
                assert row_start(f"`{code}`", labels[LABEL[language]]) in text, (name, code)


def test_icd10_is_described_by_rule_not_listed(docs: dict[str, str]):
    assert "WHO ICD-10 (2019 edition)" in docs["en"]
    assert "世界卫生组织 ICD-10（2019 版）" in docs["zh"]
    assert "`I21.9`" not in docs["en"]  # no code-by-code listing


def test_identifying_fields_say_what_happens(docs: dict[str, str]):
    en, zh = docs["en"], docs["zh"]
    assert "| `resident_id` | Resident identity number | all tables | pseudonymise |" in en
    assert "| `birth_date` | Date of birth | `participant` | generalise |" in en
    assert "| `name` | Name | `participant` | drop |" in en
    assert "| `resident_id` | 居民身份证号 | 所有数据表 | 假名化 |" in zh


def test_catalogues_cohorts_and_centres_are_listed(docs: dict[str, str]):
    for language, text in docs.items():
        for item in MEASUREMENT_ITEMS.values():
            row = row_start(f"`{item.code}`", getattr(item, language).replace("|", "\\|"))
            assert row in text, item.code
        for item in EXPOSURE_ITEMS.values():
            row = row_start(f"`{item.code}`", getattr(item, language).replace("|", "\\|"))
            assert row in text, item.code
        for entry in (*COHORTS.values(), *CENTRES.values()):
            assert row_start(f"`{entry.code}`", getattr(entry, language)) in text, entry.code


def test_measurement_rows_show_units_and_ranges(docs: dict[str, str]):
    glucose = MEASUREMENT_ITEMS["GLU_FAST"]
    row = next(line for line in docs["en"].splitlines()
               if line.startswith(f"| `{glucose.code}` |"))
    assert glucose.unit in row
    assert all(unit in row for unit in glucose.other_units)
    sexed = [i for i in MEASUREMENT_ITEMS.values() if i.plausible_male and i.plausible_female]
    for item in sexed:
        row = next(line for line in docs["en"].splitlines()
                   if line.startswith(f"| `{item.code}` |"))
        assert row.count(" – ") >= 4, item.code  # limits, plausible, men, women


def test_every_table_row_has_as_many_cells_as_its_header(docs: dict[str, str]):
    for text in docs.values():
        assert_tables_well_formed(text)


def test_pipes_in_cells_are_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    piped = Table("piped", "管道", "Pipe | table", "left | right",
                  (Field("x", "string", "甲|乙", "x | y", "a | b", required=True),), key=("x",))
    monkeypatch.setattr(dictionary_module, "TABLES", {"piped": piped})
    monkeypatch.setattr(dictionary_module, "LAKE_TABLES", {"piped": piped})
    text = write_dictionary(tmp_path, language="en")[0].read_text(encoding="utf-8")
    assert "left \\| right" in text and "| `x` | x \\| y |" in text
    assert_tables_well_formed(text)


def test_output_is_deterministic(tmp_path: Path):
    first = write_dictionaries(tmp_path / "a")
    second = write_dictionaries(tmp_path / "b")
    again = write_dictionaries(tmp_path / "a")
    for one, two, three in zip(first, second, again, strict=True):
        assert one.read_bytes() == two.read_bytes() == three.read_bytes()


def assert_tables_well_formed(text: str) -> None:
    columns = None
    for line in text.splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = len(UNESCAPED_PIPE.findall(line)) - 1
        if columns is None:
            columns = cells
        assert cells == columns, line
