"""Collects PLINK 2 --glm/--freq outputs into one JSON of the columns the tests compare.

    python plink2_glm_to_json.py OUT.json "$(plink2 --version)" NAME=PLINK2_OUTPUT_FILE ...

Numbers are kept as PLINK 2 printed them (about 6 significant digits); NA becomes null.
Rows are in .bim order, so variant ids are not repeated; ``a1_is_alt`` says whether the
tested allele A1 was ALT, and ``errcode`` lists only the rows with an error code.
"""

import json
import re
import sys

COLUMNS = {"OBS_CT": "n", "BETA": "beta", "OR": "or",
           "SE": "se", "LOG(OR)_SE": "se", "P": "p", "FIRTH?": "firth", "ALT_FREQS": "alt_freq"}


def value(text: str):
    if text == "NA":
        return None
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def table(path: str) -> dict:
    with open(path) as handle:
        header = handle.readline().lstrip("#").rstrip("\n").split("\t")
        rows = [line.rstrip("\n").split("\t") for line in handle]
    keep = [(i, COLUMNS[name]) for i, name in enumerate(header) if name in COLUMNS]
    out = {key: [value(row[i]) for row in rows] for i, key in keep}
    out["first_id"], out["last_id"] = rows[0][header.index("ID")], rows[-1][header.index("ID")]
    if "A1" in header:
        a1, alt = header.index("A1"), header.index("ALT")
        out["a1_is_alt"] = [int(row[a1] == row[alt]) for row in rows]
    if "ERRCODE" in header:
        code = header.index("ERRCODE")
        out["errcode"] = {i: row[code] for i, row in enumerate(rows) if row[code] != "."}
    return out


out = {"plink2_version": sys.argv[2]}
for argument in sys.argv[3:]:
    name, path = argument.split("=", 1)
    out[name] = table(path)
with open(sys.argv[1], "w") as handle:
    json.dump(out, handle, separators=(",", ":"))
