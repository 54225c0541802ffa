"""What the reference-database page needs besides the search API: readable names for the
groups a summary publishes, and each dataset's layout (which tables, which population
sits in which super-population) so the page can nest rows as the disclosure rule does.

Regions, provinces and sex are named by :mod:`precimed.standard`. The 1000 Genomes
Project's population codes are named here: English as IGSR lists them
(https://www.internationalgenome.org/data-portal/population), Chinese translated for
this page. A population of another callset keeps its own code as its name.
"""

from __future__ import annotations

from fastapi import Request

from precimed.errors import UserError

SUPER_POPULATIONS_1KG: dict[str, tuple[str, str]] = {
    "AFR": ("非洲", "African"),
    "AMR": ("美洲混合", "Admixed American"),
    "EAS": ("东亚", "East Asian"),
    "EUR": ("欧洲", "European"),
    "SAS": ("南亚", "South Asian"),
}

POPULATIONS_1KG: dict[str, tuple[str, str]] = {
    "ACB": ("巴巴多斯非裔加勒比人", "African Caribbean in Barbados"),
    "ASW": ("美国西南部非洲裔", "African Ancestry in SW USA"),
    "ESN": ("尼日利亚埃桑人", "Esan in Nigeria"),
    "GWD": ("冈比亚西部冈比亚人", "Gambian in Western Division, The Gambia"),
    "LWK": ("肯尼亚韦布耶卢希亚人", "Luhya in Webuye, Kenya"),
    "MSL": ("塞拉利昂门德人", "Mende in Sierra Leone"),
    "YRI": ("尼日利亚伊巴丹约鲁巴人", "Yoruba in Ibadan, Nigeria"),
    "CLM": ("哥伦比亚麦德林人", "Colombian in Medellín, Colombia"),
    "MXL": ("洛杉矶墨西哥裔", "Mexican Ancestry in Los Angeles, USA"),
    "PEL": ("秘鲁利马人", "Peruvian in Lima, Peru"),
    "PUR": ("波多黎各人", "Puerto Rican in Puerto Rico"),
    "CDX": ("西双版纳傣族", "Dai Chinese in Xishuangbanna, China"),
    "CHB": ("北京汉族", "Han Chinese in Beijing, China"),
    "CHS": ("中国南方汉族", "Southern Han Chinese"),
    "JPT": ("东京日本人", "Japanese in Tokyo, Japan"),
    "KHV": ("胡志明市京族", "Kinh in Ho Chi Minh City, Vietnam"),
    "CEU": ("犹他州北欧和西欧裔", "CEPH Utah residents of Northern and Western European ancestry"),
    "FIN": ("芬兰人", "Finnish in Finland"),
    "GBR": ("英格兰和苏格兰英国人", "British in England and Scotland"),
    "IBS": ("西班牙伊比利亚人", "Iberian populations in Spain"),
    "TSI": ("意大利托斯卡纳人", "Toscani in Italy"),
    "BEB": ("孟加拉国孟加拉人", "Bengali in Bangladesh"),
    "GIH": ("休斯顿古吉拉特印度人", "Gujarati Indians in Houston, USA"),
    "ITU": ("英国印度泰卢固人", "Indian Telugu in the UK"),
    "PJL": ("巴基斯坦拉合尔旁遮普人", "Punjabi in Lahore, Pakistan"),
    "STU": ("英国斯里兰卡泰米尔人", "Sri Lankan Tamil in the UK"),
}

UNKNOWN = ("未知", "unknown")
STRATA: dict[str, tuple[str, str]] = {
    "all": ("全部", "All"),
    "region": ("地区", "Region"),
    "province": ("籍贯省份", "Native province"),
    "sex": ("性别", "Sex"),
    "super_population": ("超级人群", "Super-population"),
    "population": ("人群", "Population"),
}


def group_labels(lang: str) -> dict[str, dict[str, str]]:
    """Stratum → group code → name in ``lang`` (``zh`` or ``en``); the page falls back
    to the code for a group not named here."""
    from precimed.standard import PROVINCES, REGIONS, vocabulary

    i = 0 if lang == "zh" else 1
    labels = {
        "all": {"all": STRATA["all"][i]},
        "region": {code: (r.zh, r.en)[i] for code, r in REGIONS.items()},
        "province": {code: (p.zh, p.en)[i] for code, p in PROVINCES.items()},
        "sex": {code: pair[i] for code, pair in vocabulary("sex").codes.items()},
        "super_population": {code: pair[i] for code, pair in SUPER_POPULATIONS_1KG.items()},
        "population": {code: pair[i] for code, pair in POPULATIONS_1KG.items()},
    }
    for groups in labels.values():
        groups["unknown"] = UNKNOWN[i]
    return labels


def stratum_labels(lang: str) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {stratum: pair[i] for stratum, pair in STRATA.items()}


def dataset_layouts(request: Request) -> dict[str, dict]:
    """Each served dataset's tables and nesting (labels only, no counts); empty when no
    summary is served, whose message the page shows from the API's answer."""
    from precimed.api.routes.reference import database

    try:
        return database(request).manifest["datasets"]
    except UserError:
        return {}
