"""GB/T 2260 provinces and the programme's five regions.

Regional cohort membership is by native place (籍贯), not residence: the 2017 guideline
of the national Precision Medicine Research programme (sections 2.1.1–2.1.5) names the
provinces of each region.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Province:
    code: str  # first two digits of the GB/T 2260 division code
    zh: str
    en: str


@dataclass(frozen=True)
class Region:
    code: str
    zh: str
    en: str
    provinces: tuple[str, ...]


PROVINCES: dict[str, Province] = {p.code: p for p in (
    Province("11", "北京市", "Beijing"),
    Province("12", "天津市", "Tianjin"),
    Province("13", "河北省", "Hebei"),
    Province("14", "山西省", "Shanxi"),
    Province("15", "内蒙古自治区", "Inner Mongolia"),
    Province("21", "辽宁省", "Liaoning"),
    Province("22", "吉林省", "Jilin"),
    Province("23", "黑龙江省", "Heilongjiang"),
    Province("31", "上海市", "Shanghai"),
    Province("32", "江苏省", "Jiangsu"),
    Province("33", "浙江省", "Zhejiang"),
    Province("34", "安徽省", "Anhui"),
    Province("35", "福建省", "Fujian"),
    Province("36", "江西省", "Jiangxi"),
    Province("37", "山东省", "Shandong"),
    Province("41", "河南省", "Henan"),
    Province("42", "湖北省", "Hubei"),
    Province("43", "湖南省", "Hunan"),
    Province("44", "广东省", "Guangdong"),
    Province("45", "广西壮族自治区", "Guangxi"),
    Province("46", "海南省", "Hainan"),
    Province("50", "重庆市", "Chongqing"),
    Province("51", "四川省", "Sichuan"),
    Province("52", "贵州省", "Guizhou"),
    Province("53", "云南省", "Yunnan"),
    Province("54", "西藏自治区", "Tibet"),
    Province("61", "陕西省", "Shaanxi"),
    Province("62", "甘肃省", "Gansu"),
    Province("63", "青海省", "Qinghai"),
    Province("64", "宁夏回族自治区", "Ningxia"),
    Province("65", "新疆维吾尔自治区", "Xinjiang"),
    Province("71", "台湾省", "Taiwan"),
    Province("81", "香港特别行政区", "Hong Kong"),
    Province("82", "澳门特别行政区", "Macao"),
)}

REGIONS: dict[str, Region] = {r.code: r for r in (
    Region("east", "华东", "East China", ("31", "32", "33", "37")),
    Region("south", "华南", "South China", ("44", "45", "35", "46")),
    Region("northwest", "西北", "Northwest China", ("61", "62", "63", "64", "65")),
    Region("southwest", "西南", "Southwest China", ("51", "52", "53", "50", "54")),
    Region("northeast", "东北", "Northeast China", ("21", "22", "23", "15")),
)}

REGION_OF_PROVINCE: dict[str, str] = {
    province: region.code for region in REGIONS.values() for province in region.provinces
}


def region_of(province_code: str) -> str | None:
    """The programme region whose cohort a native of ``province_code`` may join."""
    return REGION_OF_PROVINCE.get(province_code)
