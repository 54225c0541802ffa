"""The tables of the unified data standard, declared once.

Each :class:`Table` lists its fields with type, labels (zh, en), description, whether a
submission must fill them, their vocabulary, and the natural key that makes a row unique
(and re-submission idempotent). The lake schema, the ingest validators, the JSON
Schemas and the data dictionary are all generated from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

FIELD_TYPES = ("string", "integer", "float", "date", "year_month")

_ARROW = {
    "string": pa.string(),
    "integer": pa.int32(),
    "float": pa.float64(),
    "date": pa.date32(),
    "year_month": pa.string(),
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    zh: str
    en: str
    description: str
    required: bool = False
    vocabulary: str | None = None  # a name known to precimed.standard.vocabulary()
    derived: bool = False  # filled by the platform, never submitted
    min: float | None = None
    max: float | None = None
    # (table, field) of the record a value names, within the same centre: QC checks it
    references: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type}")

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.type]


@dataclass(frozen=True)
class SubmittedField:
    """A field centres send that never enters the lake as sent.

    ``action`` is ``pseudonymise`` (becomes the pseudonym), ``generalise`` (becomes a
    coarser field) or ``drop`` (direct identifier, discarded at ingest).
    """

    name: str
    zh: str
    en: str
    description: str
    action: str
    becomes: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    en: str
    description: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    # Columns a release's DuckDB copy is ordered by (None: by pseudonym, or by item code
    # then pseudonym where the table has items), so a filter reads one zone of it.
    order: tuple[str, ...] | None = None
    # The date field saying when a row's data were observed: the latest such date over a
    # release is its data cut (precimed.lake), the default as-of date of every result.
    observed: str | None = None

    @property
    def order_by(self) -> tuple[str, ...]:
        if self.order is not None:
            return self.order
        return ("code", "pseudonym") if "code" in self.field_names else ("pseudonym",)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"table {self.name} has no field {name}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def submitted_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.derived)

    def arrow_schema(self) -> pa.Schema:
        """The lake schema: the standard's fields, then the platform's system columns."""
        columns = [pa.field(f.name, f.arrow_type, nullable=not f.required) for f in self.fields]
        columns += [pa.field(s.name, s.arrow_type, nullable=False) for s in SYSTEM_FIELDS]
        return pa.schema(columns)


# Columns the platform adds to every lake row.
SYSTEM_FIELDS: tuple[Field, ...] = (
    Field("centre", "string", "提交中心", "Submitting centre",
          "Code of the centre whose submission wrote the row.", derived=True),
    Field("submission_id", "string", "提交批次", "Submission",
          "Identifier of the submission that wrote the row.", derived=True),
    Field("standard_version", "string", "标准版本", "Standard version",
          "Version of the unified data standard the row was written under.", derived=True),
    Field("row_key", "string", "行键", "Row key",
          "Hash of the table's natural key; makes re-submission idempotent.", derived=True),
)

# What centres send that must never reach the lake as sent.
IDENTIFYING_FIELDS: tuple[SubmittedField, ...] = (
    SubmittedField("resident_id", "居民身份证号", "Resident identity number",
                   "18-character GB 11643 number; validated by its check digit, then "
                   "replaced by a keyed HMAC-SHA256 pseudonym.", "pseudonymise", "pseudonym"),
    SubmittedField("birth_date", "出生日期", "Date of birth",
                   "Full birth date; kept only as year and month.", "generalise",
                   "birth_year_month"),
    SubmittedField("name", "姓名", "Name", "Discarded at ingest.", "drop"),
    SubmittedField("phone", "联系电话", "Telephone", "Discarded at ingest.", "drop"),
    SubmittedField("address", "住址", "Address", "Discarded at ingest.", "drop"),
)

IDENTIFYING_BY_NAME: dict[str, SubmittedField] = {f.name: f for f in IDENTIFYING_FIELDS}

_PSEUDONYM = Field(
    "pseudonym", "string", "参与者假名", "Participant pseudonym",
    "Keyed HMAC-SHA256 of the resident identity number under the platform key.",
    required=True, derived=True,
)


def _person(*fields: Field) -> tuple[Field, ...]:
    return (_PSEUDONYM, *fields)


def _wave(required: bool = False) -> Field:
    return Field("wave", "integer", "调查轮次", "Wave",
                 "Survey wave: 0 baseline, 1 the first follow-up, and so on.",
                 required=required, min=0, max=50)


PARTICIPANT = Table(
    "participant", "参与者", "Participant",
    "One row per person enrolled in a cohort.",
    _person(
        Field("cohort", "string", "队列", "Cohort", "Cohort the person is enrolled in.",
              required=True, vocabulary="cohort"),
        Field("sex", "string", "性别", "Sex", "GB/T 2261.1 sex code.",
              required=True, vocabulary="sex"),
        Field("birth_year_month", "year_month", "出生年月", "Birth year and month",
              "YYYY-MM; from the submitted birth date or resident ID.", required=True,
              derived=True),
        Field("native_province", "string", "籍贯省份", "Native province",
              "GB/T 2260 province code of the person's native place (籍贯).",
              required=True, vocabulary="province"),
        Field("region", "string", "籍贯区域", "Native region",
              "Programme region of the native province.", derived=True, vocabulary="region"),
        Field("ethnicity", "string", "民族", "Ethnicity", "GB 3304 ethnicity code.",
              vocabulary="ethnicity"),
        Field("enrolment_date", "date", "入组日期", "Enrolment date",
              "Date of the baseline survey and consent.", required=True),
        Field("consent_date", "date", "知情同意日期", "Consent date",
              "Date the current consent was signed.", required=True),
        Field("consent_scope", "string", "知情同意范围", "Consent scope",
              "What the current consent allows. A person whose scope is withdrawn is "
              "left out of every count, extract, analysis, Beacon answer and reference "
              "frequency of every release made after the withdrawal is submitted (older "
              "releases stay frozen, are marked, and cut no extract of that person); "
              "no_genetic keeps the person's genotypes out of every genotype dataset and "
              "the person out of every access request that is genetic research (one "
              "asking for genotype, exome or genome data, or studying population origins "
              "or ancestry), its clinical extracts included. Change the scope by "
              "resubmitting the participant "
              "row with a new consent_date (precimed.standard.consent).",
              required=True, vocabulary="consent_scope"),
    ),
    key=("pseudonym",),
    observed="enrolment_date",
)

VISIT = Table(
    "visit", "访视", "Visit", "One row per survey visit (baseline, resurvey, follow-up).",
    _person(
        _wave(required=True),
        Field("visit_date", "date", "访视日期", "Visit date", "Date of the visit.",
              required=True),
        Field("visit_type", "string", "访视类型", "Visit type", "Kind of visit.",
              required=True, vocabulary="visit_type"),
    ),
    key=("pseudonym", "wave"),
    observed="visit_date",
)

MEASUREMENT = Table(
    "measurement", "测量与检验", "Measurement",
    "Physical measurements and laboratory results, converted to the canonical unit.",
    _person(
        Field("code", "string", "项目代码", "Item code", "Measurement catalogue code.",
              required=True, vocabulary="measurement"),
        Field("value", "float", "数值", "Value", "Value in the item's canonical unit."),
        Field("value_qualifier", "string", "数值限定符", "Value qualifier",
              "'<' or '>' when the laboratory reported a detection limit.",
              vocabulary="value_qualifier", derived=True),
        Field("value_text", "string", "定性结果", "Qualitative result",
              "Qualitative result such as negative or positive.",
              vocabulary="qualitative_result", derived=True),
        Field("unit", "string", "单位", "Unit",
              "Unit of the value as submitted; the lake holds the item's canonical unit."),
        Field("submitted_unit", "string", "提交单位", "Submitted unit",
              "Unit as the centre sent it, before conversion.", derived=True),
        Field("measured_on", "date", "测量日期", "Measurement date",
              "Date of measurement or sample collection.", required=True),
        _wave(),
    ),
    key=("pseudonym", "code", "measured_on"),
    observed="measured_on",
)

EXPOSURE = Table(
    "exposure", "暴露因素", "Exposure",
    "Lifestyle, environmental, occupational and social exposures.",
    _person(
        Field("code", "string", "项目代码", "Item code", "Exposure catalogue code.",
              required=True, vocabulary="exposure"),
        Field("value", "float", "数值", "Value", "Numeric value in the item's unit."),
        Field("value_code", "string", "分类值", "Category",
              "Category code for categorical items.", derived=True),
        Field("unit", "string", "单位", "Unit", "Unit of numeric items."),
        Field("assessed_on", "date", "评估日期", "Assessment date", "Date of assessment.",
              required=True),
        _wave(),
    ),
    key=("pseudonym", "code", "assessed_on"),
    observed="assessed_on",
)

CONDITION = Table(
    "condition", "疾病诊断", "Condition",
    "Diagnoses: medical history at baseline and diagnoses recorded later.",
    _person(
        Field("icd10", "string", "ICD-10编码", "ICD-10 code", "Diagnosis code.",
              required=True, vocabulary="icd10"),
        Field("diagnosed_on", "date", "诊断日期", "Diagnosis date", "Date of diagnosis.",
              required=True),
        Field("source", "string", "来源", "Source", "Where the diagnosis comes from.",
              required=True, vocabulary="event_source"),
    ),
    key=("pseudonym", "icd10", "diagnosed_on"),
    observed="diagnosed_on",
)

MEDICATION = Table(
    "medication", "用药", "Medication", "Medicines taken.",
    _person(
        Field("atc_code", "string", "ATC编码", "ATC code",
              "WHO Anatomical Therapeutic Chemical code of the medicine.", required=True),
        Field("drug_name", "string", "药品名称", "Drug name", "Generic name."),
        Field("start_date", "date", "开始日期", "Start date", "First day taken.",
              required=True),
        Field("end_date", "date", "结束日期", "End date", "Last day taken, if stopped."),
        Field("daily_dose", "float", "日剂量", "Daily dose", "Dose per day.", min=0),
        Field("dose_unit", "string", "剂量单位", "Dose unit", "Unit of the daily dose."),
    ),
    key=("pseudonym", "atc_code", "start_date"),
    observed="start_date",
)

SPECIMEN = Table(
    "specimen", "生物样本", "Specimen", "Biobank specimens and where they are stored.",
    _person(
        Field("specimen_id", "string", "样本编号", "Specimen ID",
              "The biobank's barcode; unique within the centre.", required=True),
        Field("specimen_type", "string", "样本类型", "Specimen type", "Kind of specimen.",
              required=True, vocabulary="specimen_type"),
        Field("collected_on", "date", "采集日期", "Collection date", "Date collected.",
              required=True),
        Field("storage_location", "string", "存储位置", "Storage location",
              "Freezer-rack-box-position in the biobank.", required=True),
        Field("volume_ml", "float", "体积(mL)", "Volume (mL)", "Volume remaining.",
              min=0, max=1000),
        _wave(),
    ),
    key=("centre", "specimen_id"),
    observed="collected_on",
)

ASSAY = Table(
    "assay", "组学检测", "Omics assay",
    "Genotyping and omics assays run on a participant's specimens: which data exist. The "
    "data themselves (genotypes, omics matrices) go to their own stores.",
    _person(
        Field("assay_id", "string", "检测编号", "Assay ID",
              "The laboratory's run or sample ID; unique within the centre.", required=True),
        Field("assay_type", "string", "检测类型", "Assay type", "Kind of assay.",
              required=True, vocabulary="assay_type"),
        Field("specimen_id", "string", "样本编号", "Specimen ID",
              "The specimen assayed, if recorded: a specimen_id of the centre's specimens.",
              references=("specimen", "specimen_id")),
        Field("performed_on", "date", "检测日期", "Assay date", "Date the assay was run.",
              required=True),
        Field("platform", "string", "检测平台", "Platform",
              "Instrument or array, e.g. Illumina NovaSeq 6000."),
    ),
    key=("centre", "assay_id"),
    observed="performed_on",
)

FOLLOW_UP_CONTACT = Table(
    "follow_up_contact", "随访联系", "Follow-up contact",
    "Every attempt to reach a participant at a follow-up wave, and its outcome.",
    _person(
        _wave(required=True),
        Field("contact_date", "date", "联系日期", "Contact date", "Date of the attempt.",
              required=True),
        Field("method", "string", "随访方式", "Method", "How contact was attempted.",
              required=True, vocabulary="contact_method"),
        Field("outcome", "string", "随访结果", "Outcome", "What came of it.",
              required=True, vocabulary="contact_outcome"),
    ),
    key=("pseudonym", "wave", "contact_date", "method"),
    observed="contact_date",
)

ENDPOINT_EVENT = Table(
    "endpoint_event", "终点事件", "Endpoint event",
    "Candidate endpoint events reported by any source, before adjudication.",
    _person(
        Field("icd10", "string", "ICD-10编码", "ICD-10 code", "Event diagnosis.",
              required=True, vocabulary="icd10"),
        Field("event_date", "date", "事件日期", "Event date", "Date of onset or diagnosis.",
              required=True),
        Field("source", "string", "来源", "Source", "Where the report comes from.",
              required=True, vocabulary="event_source"),
    ),
    key=("pseudonym", "icd10", "event_date", "source"),
    observed="event_date",
)

DEATH = Table(
    "death", "死亡", "Death", "Deaths, with the underlying cause.",
    _person(
        Field("death_date", "date", "死亡日期", "Date of death", "Date of death.",
              required=True),
        Field("underlying_cause", "string", "根本死因", "Underlying cause",
              "ICD-10 code of the underlying cause of death.", vocabulary="icd10"),
        Field("source", "string", "来源", "Source", "Where the report comes from.",
              required=True, vocabulary="event_source"),
    ),
    key=("pseudonym",),    observed="death_date",
)

def _computed(*fields: Field) -> tuple[Field, ...]:
    """Fields of a table the platform computes: none of them is ever submitted."""
    return tuple(Field(**{**f.__dict__, "derived": True}) for f in fields)


VARIANT_SUMMARY = Table(
    "variant_summary", "变异位点汇总", "Variant summary",
    "One row per variant and genotype dataset: where the variant is, its alleles, and "
    "counts over the dataset's samples. Computed by the platform from the genotype store "
    "when a dataset is published, never submitted. Counts are whole-dataset counts for "
    "analysis inside the platform; published frequencies (by region, province and sex) "
    "pass disclosure control in the population reference database. Variants are "
    "biallelic after splitting multi-allelic sites, with trimmed (normalised) alleles; a "
    "variant the dataset typed but never called has no row.",
    _computed(
        Field("dataset", "string", "基因型数据集", "Genotype dataset",
              "Name of the dataset in the genotype store, e.g. a centre's array batch or "
              "1kg-phase3.", required=True),
        Field("dataset_kind", "string", "数据集类型", "Dataset kind",
              "Whether the samples are the programme's participants (pseudonymised at "
              "ingest) or a public reference callset.", required=True,
              vocabulary="genotype_dataset_kind"),
        Field("build", "string", "参考基因组版本", "Genome build",
              "Reference genome the positions are on.", required=True,
              vocabulary="genome_build"),
        Field("variant_id", "string", "变异编号", "Variant ID",
              "CHROM-POS-REF-ALT, 1-based position (as Beacon v2 and gnomAD write it).",
              required=True),
        Field("chrom", "string", "染色体", "Chromosome",
              "1-22, X, Y or MT, without a 'chr' prefix.", required=True),
        Field("pos", "integer", "位置", "Position", "1-based position of the first REF base.",
              required=True, min=1),
        Field("ref", "string", "参考等位基因", "Reference allele", "REF bases.",
              required=True),
        Field("alt", "string", "替代等位基因", "Alternate allele", "ALT bases.",
              required=True),
        Field("rsid", "string", "dbSNP编号", "rsID", "dbSNP identifier where the VCF gave one."),
        Field("samples", "integer", "样本数", "Samples", "Samples in the dataset.",
              required=True, min=0),
        Field("called", "integer", "检出样本数", "Samples called",
              "Samples with a genotype call at the variant.", required=True, min=0),
        Field("call_rate", "float", "检出率", "Call rate", "called / samples.",
              required=True, min=0, max=1),
        Field("allele_count", "integer", "等位基因计数", "Allele count (AC)",
              "ALT alleles among called genotypes; a hemizygous male call on X or Y "
              "outside the pseudo-autosomal regions counts one.", required=True, min=0),
        Field("allele_number", "integer", "等位基因总数", "Allele number (AN)",
              "Called alleles: two per diploid call, one per hemizygous call.",
              required=True, min=0),
        Field("allele_frequency", "float", "等位基因频率", "Allele frequency (AF)",
              "AC / AN.", min=0, max=1),
        Field("het", "integer", "杂合子数", "Heterozygotes",
              "Samples called heterozygous (diploid calls).", required=True, min=0),
        Field("hom_alt", "integer", "纯合替代数", "Homozygous ALT",
              "Samples homozygous (or hemizygous) for ALT.", required=True, min=0),
        Field("hwe_p", "float", "哈迪-温伯格P值", "Hardy-Weinberg p",
              "Exact test p-value (Wigginton, Cutler and Abecasis 2005) over the dataset's "
              "called samples; autosomes only, empty on X, Y and MT.", min=0, max=1),
    ),
    key=("dataset", "build", "variant_id"),
    order=("dataset", "chrom", "pos"),
)

CONFIRMED_ENDPOINT = Table(
    "confirmed_endpoint", "确认终点事件", "Confirmed endpoint",
    "One row per endpoint candidate confirmed by adjudication when the release was made: "
    "the release's frozen copy of the reviewers' decisions (kept live in the operational "
    "database), so that survival and incidence on a release give the same events whatever "
    "is decided later. Computed by the platform at release creation, never submitted; the "
    "centre column is the participant's centre.",
    _computed(
        _PSEUDONYM,
        Field("candidate_id", "string", "候选事件编号", "Candidate ID",
              "The candidate's id: 32 hex digits of sha256(pseudonym|endpoint|first date).",
              required=True),
        Field("endpoint", "string", "终点组", "Endpoint group",
              "The endpoint group the candidate belongs to, e.g. stroke or chd.",
              required=True),
        Field("first_date", "date", "事件日期", "Event date",
              "Date of the episode's first report: the event's date in analyses.",
              required=True),
    ),
    key=("candidate_id",),
)

TABLES: dict[str, Table] = {t.name: t for t in (
    PARTICIPANT, VISIT, MEASUREMENT, EXPOSURE, CONDITION, MEDICATION, SPECIMEN, ASSAY,
    FOLLOW_UP_CONTACT, ENDPOINT_EVENT, DEATH,
)}
"""Tables centres submit."""

DERIVED_TABLES: dict[str, Table] = {
    t.name: t for t in (VARIANT_SUMMARY, CONFIRMED_ENDPOINT)}
"""Tables the platform computes into the lake; a package cannot name them."""

LAKE_TABLES: dict[str, Table] = {**TABLES, **DERIVED_TABLES}
"""Every table of the lake."""
