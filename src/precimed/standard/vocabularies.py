"""Small coded vocabularies: each code with a Chinese and an English label.

Large or rule-based vocabularies (ICD-10, provinces, measurements, exposures) have their
own modules; :func:`vocabulary` returns any of them by name so that a table field can
name its vocabulary once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vocabulary:
    name: str
    zh: str
    en: str
    codes: dict[str, tuple[str, str]]  # code -> (zh, en)
    source: str = ""
    # Labels centres write instead of codes (男 for 1); ingest maps them to codes.
    synonyms: dict[str, str] | None = None

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def code_for(self, raw: str) -> str | None:
        text = raw.strip()
        if text in self.codes:
            return text
        synonyms = self.synonyms or {}
        if text in synonyms:
            return synonyms[text]
        lowered = text.lower()
        for code, (zh, en) in self.codes.items():
            if lowered in (code.lower(), zh, en.lower()):
                return code
        return None


SEX = Vocabulary(
    "sex", "性别", "Sex",
    {"0": ("未知的性别", "unknown"), "1": ("男性", "male"), "2": ("女性", "female"),
     "9": ("未说明的性别", "not stated")},
    source="GB/T 2261.1-2003",
    synonyms={"男": "1", "女": "2", "M": "1", "F": "2", "m": "1", "f": "2"},
)

# What each scope allows is the rule of precimed.standard.consent
# (docs/explanation/consent.md); codes are only ever added, so old submissions stay valid.
CONSENT_SCOPE = Vocabulary(
    "consent_scope", "知情同意范围", "Consent scope",
    {"broad": ("广泛同意（未来研究）", "broad consent for future research"),
     "specific": ("特定研究同意", "consent for the named study only"),
     "disease_specific": ("特定疾病研究同意", "consent for research on the named disease "
                          "area only"),
     "no_genetic": ("同意研究但不含遗传学研究", "research allowed, genetic research "
                    "excluded"),
     "withdrawn": ("已撤回同意", "consent withdrawn")},
)

VISIT_TYPE = Vocabulary(
    "visit_type", "访视类型", "Visit type",
    {"baseline": ("基线调查", "baseline survey"), "resurvey": ("重复调查", "resurvey"),
     "follow_up": ("随访访视", "follow-up visit"), "other": ("其他", "other")},
)

CONTACT_METHOD = Vocabulary(
    "contact_method", "随访方式", "Follow-up contact method",
    {"in_person": ("面访", "in person"), "phone": ("电话", "telephone"),
     "app": ("移动应用", "mobile app"), "record_linkage": ("医疗记录关联", "record linkage"),
     "registry": ("登记系统", "registry")},
    synonyms={"面访": "in_person", "电话": "phone", "电话随访": "phone", "APP": "app"},
)

CONTACT_OUTCOME = Vocabulary(
    "contact_outcome", "随访结果", "Follow-up contact outcome",
    {"reached": ("随访成功", "reached"), "not_reached": ("未联系上", "not reached"),
     "refused": ("拒绝随访", "refused"), "deceased": ("已死亡", "deceased"),
     "moved": ("迁出", "moved away")},
    synonyms={"成功": "reached", "失访": "not_reached", "拒绝": "refused", "死亡": "deceased"},
)

EVENT_SOURCE = Vocabulary(
    "event_source", "事件来源", "Event source",
    {"self_report": ("随访自报", "self-report at follow-up"),
     "hospital_record": ("医院病历关联", "hospital record linkage"),
     "death_registry": ("死因监测系统", "death registry"),
     "insurance_claim": ("医保结算数据", "health insurance claim"),
     "disease_registry": ("疾病监测登记", "disease registry"),
     "baseline_history": ("基线病史", "baseline history")},
)

SPECIMEN_TYPE = Vocabulary(
    "specimen_type", "样本类型", "Specimen type",
    {"serum": ("血清", "serum"), "plasma": ("血浆", "plasma"),
     "buffy_coat": ("白膜层", "buffy coat"), "whole_blood": ("全血", "whole blood"),
     "dna": ("DNA", "DNA"), "rna": ("RNA", "RNA"), "urine": ("尿液", "urine"),
     "stool": ("粪便", "stool"), "saliva": ("唾液", "saliva"),
     "tissue_frozen": ("冻存组织", "fresh-frozen tissue"),
     "tissue_ffpe": ("石蜡包埋组织", "FFPE tissue")},
)

ASSAY_TYPE = Vocabulary(
    "assay_type", "检测类型", "Assay type",
    {"genotype_array": ("基因分型芯片", "genotyping array"),
     "wgs": ("全基因组测序", "whole-genome sequencing"),
     "wes": ("全外显子组测序", "whole-exome sequencing"),
     "rna_seq": ("转录组测序", "RNA sequencing"),
     "proteome": ("蛋白质组", "proteome"), "metabolome": ("代谢组", "metabolome"),
     "microbiome_16s": ("16S微生物组", "16S microbiome"),
     "metagenome": ("宏基因组", "shotgun metagenome")},
)
# the assay types whose results come as a VCF (offered by the genotype upload form)
VCF_ASSAY_TYPES = ("genotype_array", "wgs", "wes")

GENOME_BUILD = Vocabulary(
    "genome_build", "参考基因组版本", "Genome build",
    {"GRCh38": ("GRCh38 (hg38)", "GRCh38 (hg38)"),
     "GRCh37": ("GRCh37 (hg19)", "GRCh37 (hg19)")},
    source="Genome Reference Consortium",
    synonyms={"hg38": "GRCh38", "hg19": "GRCh37", "b37": "GRCh37"},
)

GENOTYPE_DATASET_KIND = Vocabulary(
    "genotype_dataset_kind", "基因型数据集类型", "Genotype dataset kind",
    {"participants": ("项目参与者", "the programme's participants"),
     "reference": ("公共参考数据", "a public reference callset")},
)

VALUE_QUALIFIER = Vocabulary(
    "value_qualifier", "数值限定符", "Value qualifier",
    {"<": ("低于检测下限", "below the limit of detection"),
     ">": ("高于检测上限", "above the limit of quantification")},
)

# What a survival analysis can take as its event: all-cause death from the death registry,
# or one of the adjudicated endpoint groups, whose ICD-10 ranges are
# precimed.cohorts.endpoints.ENDPOINT_GROUPS (the same codes, checked by a test).
SURVIVAL_ENDPOINT = Vocabulary(
    "survival_endpoint", "生存分析终点", "Survival endpoint",
    {"death": ("全因死亡", "all-cause death"),
     "chd": ("缺血性心脏病", "ischaemic heart disease"),
     "stroke": ("脑卒中", "stroke"),
     "t2d": ("2型糖尿病", "type 2 diabetes"),
     "lung_cancer": ("肺癌", "lung cancer"),
     "gastric_cancer": ("胃癌", "stomach cancer"),
     "colorectal_cancer": ("结直肠癌", "colorectal cancer"),
     "liver_cancer": ("肝癌", "liver cancer")},
)

QUALITATIVE_RESULT = Vocabulary(
    "qualitative_result", "定性结果", "Qualitative result",
    {"negative": ("阴性", "negative"), "positive": ("阳性", "positive"),
     "weak_positive": ("弱阳性", "weakly positive")},
    synonyms={"阴性": "negative", "阳性": "positive", "弱阳性": "weak_positive",
              "-": "negative", "+": "positive", "(-)": "negative", "(+)": "positive"},
)
