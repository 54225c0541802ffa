"""Synthetic genotypes for synthetic participants: a bgzipped VCF and its sample sheet.

**The genotypes are simulated; no frequency here is a real population frequency.**
Variant positions lie inside real GRCh38 genes (the gene table of
:mod:`precimed.reference.genes`) and a handful of well-known pharmacogenomic and
East Asian variants keep their published GRCh38 position, alleles and rsID
(:data:`KNOWN_VARIANTS`), so that searches such as ``ALDH2`` or ``rs671`` find
something; every allele frequency and every call is drawn at random.

The model, per variant (:func:`simulate_panel`, :func:`draw_calls`):

* a national ALT frequency ``p0`` (autosomes Beta(0.7, 2.0) within [0.01, 0.9]; X and
  the known variants common, see below);
* a north–south cline on the logit scale, ``logit m_r = logit p0 + slope × z_r``, where
  ``z_r`` places the programme region on a north (+1) to south (-1) axis
  (:data:`REGION_CLINE`) and ``slope ~ Normal(0, CLINE_SD)``. Han Chinese genetic
  structure runs mainly north–south (Chen et al. 2009, Am J Hum Genet 85:775);
* regional drift around the cline, Beta-distributed as in the Balding–Nichols model:
  ``p_r ~ Beta(m_r (1 - F) / F, (1 - m_r)(1 - F) / F)`` with a small ``F`` (:data:`FST`);
* calls under Hardy–Weinberg within the person's region: two alleles, each ALT with
  probability ``p_r``; on X outside the pseudo-autosomal regions a man carries one
  allele and is written haploid;
* a share :data:`MISSING` of calls missing at random.

Who is genotyped comes from a centre's package, read the way the platform reads it
(:func:`participants_of`), so sex and native province are those the lake holds: the
regional frequencies follow the person, and genotype QC's genetic sex check agrees with
the recorded sex.

The VCF is written bgzipped (:class:`BgzfWriter`, SAM/BAM specification §4.1), so
htslib tools (``bcftools``, ``tabix``) and :func:`precimed.genomics.vcf.read_vcf` read it.
"""

from __future__ import annotations

import csv
import datetime as dt
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from precimed.errors import UserError
from precimed.reference.genes import gene_table
from precimed.standard import TABLES
from precimed.standard.regions import region_of

BUILD = "GRCh38"
MISSING = 0.002  # share of calls left missing
FST = 0.001  # regional drift around the cline: about a third of the cline's spread
CLINE_SD = 0.15  # SD of a variant's cline slope, logit ALT frequency per unit of z
# A region's place on the north (+1) - south (-1) axis, by the latitude of its provinces
# (northeast ~45°N, northwest ~38°N, east ~32°N, southwest ~28°N, south ~23°N).
REGION_CLINE = {"northeast": 1.0, "northwest": 0.5, "east": 0.0, "southwest": -0.5,
                "south": -1.0}
UNPLACED = "unplaced"  # natives of provinces outside the five regions sit at z = 0
FREQUENCY_COLUMNS = (*REGION_CLINE, UNPLACED)

# Pseudo-autosomal regions of X on GRCh38: diploid in men, so X variants avoid them.
_PAR_X = ((10_001, 2_781_479), (155_701_383, 156_030_895))
# GRCh38 primary assembly lengths (GRC), for the VCF's ##contig lines.
CONTIG_LENGTHS = {
    "1": 248_956_422, "2": 242_193_529, "3": 198_295_559, "4": 190_214_555,
    "5": 181_538_259, "6": 170_805_979, "7": 159_345_973, "8": 145_138_636,
    "9": 138_394_717, "10": 133_797_422, "11": 135_086_622, "12": 133_275_309,
    "13": 114_364_328, "14": 107_043_718, "15": 101_991_189, "16": 90_338_345,
    "17": 83_257_441, "18": 80_373_285, "19": 58_617_616, "20": 64_444_167,
    "21": 46_709_983, "22": 50_818_468, "X": 156_040_895,
}
_CHROM_ORDER = {c: i for i, c in enumerate(CONTIG_LENGTHS)}


@dataclass(frozen=True)
class KnownVariant:
    rsid: str
    gene: str
    chrom: str
    pos: int  # GRCh38, 1-based
    ref: str
    alt: str


# Well-known variants at their GRCh38 positions (dbSNP; each agrees with the gene table's
# span, checked by tests/unit/synth/test_genotypes.py). Their frequencies here are
# simulated like every other variant's.
KNOWN_VARIANTS = (
    KnownVariant("rs671", "ALDH2", "12", 111_803_962, "G", "A"),  # ALDH2*2, alcohol flush
    KnownVariant("rs1229984", "ADH1B", "4", 99_318_162, "T", "C"),  # ADH1B Arg48His
    KnownVariant("rs4244285", "CYP2C19", "10", 94_781_859, "G", "A"),  # CYP2C19*2
    KnownVariant("rs1057910", "CYP2C9", "10", 94_981_296, "A", "C"),  # CYP2C9*3
    # VKORC1 -1639G>A lies in the promoter, 388 bases beyond the gene's 5' end (- strand)
    KnownVariant("rs9923231", "VKORC1", "16", 31_096_368, "C", "T"),
    KnownVariant("rs4149056", "SLCO1B1", "12", 21_178_615, "T", "C"),  # SLCO1B1*5
    KnownVariant("rs429358", "APOE", "19", 44_908_684, "T", "C"),  # APOE e4
    KnownVariant("rs7412", "APOE", "19", 44_908_822, "C", "T"),  # APOE e2
    KnownVariant("rs1801133", "MTHFR", "1", 11_796_321, "G", "A"),  # MTHFR C677T
)
_EXTRA_IN_KNOWN_GENES = 4  # random variants added to each known gene, so a gene search
                           # lists more than its famous one

# Symbols of RNA genes and of most pseudogenes (OR4G4P, RPL21P28), left out so variants
# sit in genes a user would search for.
_NON_CODING = r"^(?:MIR|LINC|SNOR|RNU|RNA|RN7|LOC|U\d)|\dP\d*$"


@dataclass(frozen=True)
class Panel:
    """The simulated variants and their ALT frequency by region.

    ``variants``: chrom, pos, rsid (None unless known), ref, alt, gene, slope; sorted as a
    VCF is. ``cline``: the intended frequency ``m_r`` per variant (rows, aligned with
    ``variants``) and region (:data:`FREQUENCY_COLUMNS`); ``frequencies``: the regional
    frequency ``p_r`` after drift, which calls are drawn with.
    """

    variants: pd.DataFrame
    cline: pd.DataFrame
    frequencies: pd.DataFrame

    @property
    def on_x(self) -> np.ndarray:
        return (self.variants["chrom"] == "X").to_numpy()


def simulate_panel(*, autosomal: int = 2_000, x_linked: int = 800, seed: int) -> Panel:
    """A reproducible panel: ``autosomal`` variants in autosomal genes (plus the known
    ones and a few more in their genes), ``x_linked`` in X genes outside the PARs."""
    rng = np.random.default_rng([seed, 0])
    genes = _coding_genes()
    auto = _random_sites(genes[genes["chrom"] != "X"], autosomal, rng)
    known_genes = genes[genes["symbol"].isin({k.gene for k in KNOWN_VARIANTS})]
    extra = _random_sites(known_genes, _EXTRA_IN_KNOWN_GENES * len(known_genes), rng)
    on_x = genes[(genes["chrom"] == "X") & (genes["start"] > _PAR_X[0][1])
                 & (genes["end"] < _PAR_X[1][0])]
    x_sites = _random_sites(on_x, x_linked, rng)
    known = pd.DataFrame([{"chrom": k.chrom, "pos": k.pos, "rsid": k.rsid, "ref": k.ref,
                           "alt": k.alt, "gene": k.gene} for k in KNOWN_VARIANTS])
    variants = pd.concat([known, extra, auto, x_sites], ignore_index=True)
    variants = variants.drop_duplicates(["chrom", "pos"]).reset_index(drop=True)
    p0 = np.clip(rng.beta(0.7, 2.0, len(variants)), 0.01, 0.9)
    is_known = variants["rsid"].notna().to_numpy()
    p0[is_known] = rng.uniform(0.1, 0.4, is_known.sum())  # common, so they show unsuppressed
    # the sex check fails a submission for any woman whose X F exceeds 0.2 (threshold 0):
    # over 800 X variants of MAF >= 0.3 a woman's F has SD ~0.037, so 0.2 is ~5.4 SD away
    x_rows = (variants["chrom"] == "X").to_numpy()
    p0[x_rows] = rng.uniform(0.3, 0.7, x_rows.sum())
    variants["slope"] = rng.normal(0, CLINE_SD, len(variants))
    z = np.array([REGION_CLINE.get(r, 0.0) for r in FREQUENCY_COLUMNS])
    cline = _expit(_logit(p0)[:, None] + variants["slope"].to_numpy()[:, None] * z[None, :])
    drifted = rng.beta(cline * (1 - FST) / FST, (1 - cline) * (1 - FST) / FST)
    order = _vcf_order(variants)
    columns = list(FREQUENCY_COLUMNS)
    return Panel(variants.iloc[order].reset_index(drop=True),
                 pd.DataFrame(cline[order], columns=columns),
                 pd.DataFrame(drifted[order], columns=columns))


def _coding_genes() -> pd.DataFrame:
    table = gene_table()
    table = table[table["chrom"].isin(CONTIG_LENGTHS.keys())]
    named = table["symbol"].str.fullmatch(r"[A-Z][A-Z0-9]{1,9}")
    return table[named & ~table["symbol"].str.contains(_NON_CODING)].reset_index(drop=True)


def _random_sites(genes: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` sites, each at a uniform position inside a gene drawn at random."""
    picked = genes.iloc[rng.integers(0, len(genes), n)]
    start, end = picked["start"].to_numpy(), picked["end"].to_numpy()
    ref = rng.integers(0, 4, n)
    alt = (ref + rng.integers(1, 4, n)) % 4  # any base but the REF
    bases = np.array(list("ACGT"))
    return pd.DataFrame({"chrom": picked["chrom"].to_numpy(),
                         "pos": rng.integers(start, end + 1), "rsid": None,
                         "ref": bases[ref], "alt": bases[alt],
                         "gene": picked["symbol"].to_numpy()})


def _vcf_order(variants: pd.DataFrame) -> np.ndarray:
    rank = variants["chrom"].map(_CHROM_ORDER).to_numpy()
    return np.lexsort((variants["pos"].to_numpy(), rank))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


# -- people --------------------------------------------------------------------------------

def participants_of(package: Path) -> pd.DataFrame:
    """The participants of a centre's package as the platform reads them: resident_id,
    sex (GB/T 2261.1 code), native_province, region (None outside the five regions)."""
    from precimed.ingest.convert import FileConverter
    from precimed.ingest.package import read_manifest, read_mapping
    from precimed.ingest.readers import read_file
    from precimed.reports.problems import Report

    package = Path(package)
    manifest = read_manifest(package)
    report = Report("genotype-synthesis", manifest.centre, package.name)
    entry = next((f for f in manifest.files if f.table == "participant"), None)
    converted = None
    if entry is not None:
        raw = read_file(package / entry.path, entry.path, report, encoding=entry.encoding)
        mapping = read_mapping(package, manifest, report).get(entry.path)
        converted = raw and FileConverter(raw, TABLES["participant"], mapping, report,
                                          centre=manifest.centre,
                                          today=dt.date.today()).convert()
    if converted is None or report.problem_count:
        raise UserError("The package's participant table cannot be read whole",
                        where=str(package),
                        hint="Synthesise genotypes for a clean package (no defects).")
    people = pd.DataFrame({name: converted.columns[name].to_pylist()
                           for name in ("resident_id", "sex", "native_province")})
    people["region"] = people["native_province"].map(region_of)
    return people


# -- calls -------------------------------------------------------------------------------

def draw_calls(panel: Panel, people: pd.DataFrame, *, rng: np.random.Generator,
               missing: float = MISSING) -> np.ndarray:
    """ALT allele counts, int8, variants x people: 0-2, or 0-1 for men on X; -1 missing.

    ``people`` needs ``sex`` ("1" male) and ``region``.
    """
    column = [FREQUENCY_COLUMNS.index(r if r in REGION_CLINE else UNPLACED)
              for r in people["region"]]
    frequency = panel.frequencies.to_numpy(np.float32)[:, column]  # variants x people
    male, on_x = (people["sex"] == "1").to_numpy(), panel.on_x
    calls = np.empty(frequency.shape, dtype=np.int8)
    for start in range(0, len(calls), 512):
        rows = slice(start, start + 512)
        calls[rows] = _genotypes(frequency[rows], on_x[rows], male, missing, rng)
    return calls


def _genotypes(p: np.ndarray, on_x: np.ndarray, male: np.ndarray, missing: float,
               rng: np.random.Generator) -> np.ndarray:
    """One uniform draw per call: the top ``missing`` of [0, 1) is a missing call, the
    rest, rescaled, is 2 below p², at least 1 below 1 - q² (Hardy–Weinberg), for a man on
    X 1 below p."""
    u = rng.random(p.shape, dtype=np.float32)
    absent = u >= 1 - missing
    u /= 1 - missing
    calls = (u < p * p).astype(np.int8) + (u < 1 - (1 - p) ** 2)
    haploid = np.ix_(on_x, male)
    calls[haploid] = u[haploid] < p[haploid]
    calls[absent] = -1
    return calls


# -- files -------------------------------------------------------------------------------

class BgzfWriter:
    """Write BGZF (SAM/BAM specification §4.1): gzip members of at most 64 KiB, each with
    a ``BC`` extra subfield giving its size, ended by the 28-byte empty EOF block."""

    BLOCK_INPUT = 0xFF00  # input per block, as htslib: deflate output stays within 64 KiB

    def __init__(self, path: Path, *, level: int = 6) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 -- closed by close()
        self._level = level
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        self._pending += data
        while len(self._pending) >= self.BLOCK_INPUT:
            self._file.write(bgzf_block(bytes(self._pending[:self.BLOCK_INPUT]), self._level))
            del self._pending[:self.BLOCK_INPUT]

    def close(self) -> None:
        if self._pending:
            self._file.write(bgzf_block(bytes(self._pending), self._level))
            self._pending.clear()
        self._file.write(bgzf_block(b""))  # the EOF marker
        self._file.close()

    def __enter__(self) -> BgzfWriter:
        return self

    def __exit__(self, *_) -> None:
        self.close()


def bgzf_block(data: bytes, level: int = 6) -> bytes:
    """One BGZF block; ``bgzf_block(b"")`` is the specification's EOF block."""
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)  # raw deflate, no zlib header
    body = deflate.compress(data) + deflate.flush()
    size = 18 + len(body) + 8  # header with extra field, data, CRC32 and ISIZE
    header = struct.pack("<BBBBIBBHBBHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, size - 1)
    return header + body + struct.pack("<II", zlib.crc32(data), len(data))


def write_vcf(path: Path, panel: Panel, calls: np.ndarray, *, samples: list[str],
              male: np.ndarray, level: int = 1) -> Path:
    """A bgzipped VCFv4.2 on GRCh38, GT only, one column per sample (``calls`` as
    :func:`draw_calls` gives them). Deflate level 1 by default: GT text compresses about
    as well at 1 as at 6, in a tenth of the time."""
    contigs = [c for c in CONTIG_LENGTHS if (panel.variants["chrom"] == c).any()]
    header = ["##fileformat=VCFv4.2",
              f"##fileDate={dt.date.today():%Y%m%d}",
              "##source=precimed.synth.genotypes (simulated genotypes, not real frequencies)",
              f"##reference={BUILD}",
              *(f"##contig=<ID={c},length={CONTIG_LENGTHS[c]},assembly={BUILD}>"
                for c in contigs),
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                         "FORMAT", *samples])]
    on_x = panel.on_x
    with BgzfWriter(Path(path), level=level) as out:
        out.write(("\n".join(header) + "\n").encode())
        for i, v in enumerate(panel.variants.itertuples(index=False)):
            rsid = v.rsid if isinstance(v.rsid, str) else "."
            out.write(f"{v.chrom}\t{v.pos}\t{rsid}\t{v.ref}\t{v.alt}\t.\tPASS\t.\tGT\t"
                      .encode() + _gt_text(calls[i], male if on_x[i] else None))
    return Path(path)


# GT text by call + 1 (missing, 0, 1, 2), four bytes each (NUL-padded for haploid calls),
# looked up as one 32-bit word per call
_DIPLOID = np.frombuffer(b"./.\t0/0\t0/1\t1/1\t", dtype=np.uint32)
_HAPLOID = np.frombuffer(b".\t\0\0" b"0\t\0\0" b"1\t\0\0" b".\t\0\0", dtype=np.uint32)


def _gt_text(row: np.ndarray, male: np.ndarray | None) -> bytes:
    """One record's sample columns, tab-separated, ending in a newline."""
    cells = _DIPLOID[row + 1]
    if male is not None:
        cells[male] = _HAPLOID[row[male] + 1]
    text = cells.view(np.uint8)
    if male is not None:
        text = text[text != 0]
    text[-1] = ord("\n")
    return text.tobytes()


def write_sample_sheet(path: Path, samples: list[str], resident_ids: list[str]) -> Path:
    """The CSV that maps each VCF sample to its person: ``sample_id,resident_id``."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sample_id", "resident_id"])
        writer.writerows(zip(samples, resident_ids, strict=True))
    return Path(path)


@dataclass(frozen=True)
class GenotypeFiles:
    vcf: Path
    sheet: Path
    samples: int
    variants: int


def synthesise_genotypes(out: Path, people: pd.DataFrame, *, panel: Panel, centre: str,
                         seed: int) -> GenotypeFiles:
    """Write ``out/CENTRE.vcf.gz`` and ``out/CENTRE-samples.csv`` for ``people`` (the
    frame of :func:`participants_of`); samples are laboratory IDs ``CENTRE-00001``..."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    samples = [f"{centre}-{i:05d}" for i in range(1, len(people) + 1)]
    # a stream per centre: with one stream, the n-th samples of two centres would share draws
    rng = np.random.default_rng([seed, 1, zlib.crc32(centre.encode())])
    calls = draw_calls(panel, people, rng=rng)
    vcf = write_vcf(out / f"{centre}.vcf.gz", panel, calls, samples=samples,
                    male=(people["sex"] == "1").to_numpy())
    sheet = write_sample_sheet(out / f"{centre}-samples.csv", samples,
                               people["resident_id"].tolist())
    return GenotypeFiles(vcf, sheet, len(samples), len(panel.variants))
