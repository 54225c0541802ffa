"""The programme's cohorts and the centres that submit to them.

Five regional natural-population cohorts (membership by native place) and eight disease
cohorts (seed 000, sections 2.1.1–2.1.5 and 2.3.1–2.3.8). The centre list is the
programme's default registry; a deployment may extend it.
"""

from __future__ import annotations

from dataclasses import dataclass

from precimed.standard.regions import REGIONS

# The programme's follow-up protocol: annual waves after baseline (wave 0). Retention and
# loss are assessed against the protocol, never against the waves a centre happened to
# submit, so a centre that stops following people up shows them as lost.
FOLLOW_UP_WAVES = 6


@dataclass(frozen=True)
class Cohort:
    code: str
    kind: str  # "regional" or "disease"
    zh: str
    en: str
    region: str | None = None  # regional cohorts: the region whose natives may join
    icd10: tuple[str, ...] = ()  # disease cohorts: the qualifying diagnoses
    target_size: int = 0
    follow_up_waves: int = FOLLOW_UP_WAVES  # annual follow-up waves in the protocol


@dataclass(frozen=True)
class Centre:
    code: str
    cohort: str
    province: str  # where the centre is, GB/T 2260 province code
    zh: str
    en: str


COHORTS: dict[str, Cohort] = {c.code: c for c in (
    *(Cohort(f"NP-{r.code.upper()}", "regional", f"{r.zh}区域自然人群队列",
             f"{r.en} natural-population cohort", region=r.code, target_size=100_000)
      for r in REGIONS.values()),
    Cohort("DC-IMMUNE", "disease", "免疫性疾病队列", "Immune disease cohort",
           icd10=("M05-M06", "M32", "M45", "K50-K51"), target_size=50_000),
    Cohort("DC-NEURO", "disease", "神经系统疾病队列", "Neurological disease cohort",
           icd10=("G20", "G30", "G35", "G40"), target_size=50_000),
    Cohort("DC-PSYCH", "disease", "精神疾病队列", "Psychiatric disease cohort",
           icd10=("F20", "F31", "F32-F33"), target_size=50_000),
    Cohort("DC-LUNG", "disease", "肺癌队列", "Lung cancer cohort",
           icd10=("C34",), target_size=50_000),
    Cohort("DC-PROSTATE", "disease", "前列腺癌队列", "Prostate cancer cohort",
           icd10=("C61",), target_size=50_000),
    Cohort("DC-LIVER", "disease", "肝癌队列", "Liver cancer cohort",
           icd10=("C22",), target_size=50_000),
    Cohort("DC-COLORECTAL", "disease", "结直肠癌队列", "Colorectal cancer cohort",
           icd10=("C18-C20",), target_size=50_000),
    Cohort("DC-GASTRIC", "disease", "胃癌队列", "Gastric cancer cohort",
           icd10=("C16",), target_size=50_000),
)}

CENTRES: dict[str, Centre] = {c.code: c for c in (
    Centre("SH01", "NP-EAST", "31", "上海队列中心", "Shanghai cohort centre"),
    Centre("JS01", "NP-EAST", "32", "江苏队列中心", "Jiangsu cohort centre"),
    Centre("SD01", "NP-EAST", "37", "山东队列中心", "Shandong cohort centre"),
    Centre("GD01", "NP-SOUTH", "44", "广东队列中心", "Guangdong cohort centre"),
    Centre("GX01", "NP-SOUTH", "45", "广西队列中心", "Guangxi cohort centre"),
    Centre("SN01", "NP-NORTHWEST", "61", "陕西队列中心", "Shaanxi cohort centre"),
    Centre("XJ01", "NP-NORTHWEST", "65", "新疆队列中心", "Xinjiang cohort centre"),
    Centre("SC01", "NP-SOUTHWEST", "51", "四川队列中心", "Sichuan cohort centre"),
    Centre("YN01", "NP-SOUTHWEST", "53", "云南队列中心", "Yunnan cohort centre"),
    Centre("LN01", "NP-NORTHEAST", "21", "辽宁队列中心", "Liaoning cohort centre"),
    Centre("HL01", "NP-NORTHEAST", "23", "黑龙江队列中心", "Heilongjiang cohort centre"),
    Centre("BJ-IMM", "DC-IMMUNE", "11", "北京免疫病队列中心", "Beijing immune disease centre"),
    Centre("SH-NEU", "DC-NEURO", "31", "上海神经病队列中心", "Shanghai neurology centre"),
    Centre("HN-PSY", "DC-PSYCH", "43", "湖南精神病队列中心", "Hunan psychiatry centre"),
    Centre("GD-LUC", "DC-LUNG", "44", "广东肺癌队列中心", "Guangdong lung cancer centre"),
    Centre("BJ-PRC", "DC-PROSTATE", "11", "北京前列腺癌队列中心",
           "Beijing prostate cancer centre"),
    Centre("GX-LIC", "DC-LIVER", "45", "广西肝癌队列中心", "Guangxi liver cancer centre"),
    Centre("ZJ-CRC", "DC-COLORECTAL", "33", "浙江结直肠癌队列中心",
           "Zhejiang colorectal cancer centre"),
    Centre("SD-GAC", "DC-GASTRIC", "37", "山东胃癌队列中心", "Shandong gastric cancer centre"),
)}
