"""Population labels of public reference callsets, in Chinese and English.

The 1000 Genomes Project's phase 3 super-populations and populations: English names as
the International Genome Sample Resource lists them
(https://www.internationalgenome.org/data-portal/population), Chinese translated here.
A population of another callset keeps its own code as its name.
"""

from __future__ import annotations

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
