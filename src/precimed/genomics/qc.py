"""Genotype QC: sample and variant call rates, heterozygosity, genetic sex, HWE and
allele frequencies against a reference population, scored under a TOML rule set.

The clinical checks (:mod:`precimed.qc.checks`) are Ibis queries over staged rows
(``QcData``); genotypes are not rows of the lake, so these checks are plain functions of
a :class:`GenotypeStore` that return the same :class:`precimed.qc.CheckResult` shape and
are gated by the same rule (:func:`precimed.qc.runner.status_of`). The rule set has the
clinical format and lives in ``precimed/qc/rulesets/genotype/``.

Definitions follow PLINK: the F coefficient is (O(hom) - E(hom)) / (N - E(hom)) over
called variants with E from the dataset's allele frequencies (``--het``); genetic sex
calls F on chromosome X below 0.2 female and above 0.8 male (``--check-sex``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from precimed.errors import UserError
from precimed.genomics import kernels
from precimed.genomics.store import GenotypeStore
from precimed.qc.rules import CheckSpec, RuleSet, grading
from precimed.qc.runner import CheckResult, status_of

RULES_DIR = Path(__file__).resolve().parents[1] / "qc" / "rulesets" / "genotype"
# PAR1/PAR2 of X (GRCh37, GRCh38): diploid in males, left out of the sex check
_PAR = {"GRCh37": ((60001, 2699520), (154931044, 155260560)),
        "GRCh38": ((10001, 2781479), (155701383, 156030895))}


@dataclass(frozen=True)
class Counted:
    """A check's outcome before gating: per instance, failing and checked counts."""

    instance: str
    table: str
    failing: int
    checked: int


@dataclass(frozen=True)
class GenotypeCheck:
    name: str
    defaults: dict
    fn: Callable


GENOTYPE_CHECKS: dict[str, GenotypeCheck] = {}


def genotype_check(**defaults):
    def register(fn):
        GENOTYPE_CHECKS[fn.__name__] = GenotypeCheck(fn.__name__, defaults, fn)
        return fn
    return register


# -- loading rule sets ----------------------------------------------------------------------

def load_genotype_rules(version: str = "1.0", directory: Path | None = None) -> RuleSet:
    """A genotype rule set from ``directory`` (default: the built-in ones)."""
    directory = Path(directory) if directory else RULES_DIR
    path = directory / f"{version}.toml"
    if not path.exists():
        known = sorted(p.stem for p in directory.glob("*.toml"))
        raise UserError(f"No genotype QC rule set {version!r}", where=str(directory),
                        hint="Known: " + (", ".join(known) or "none"))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"The rule set is not valid TOML: {exc}", where=str(path),
                        hint="Fix the file; the built-in genotype/1.0.toml shows the format."
                        ) from None
    checks = {cid: _spec(cid, entry, f"{path}, [checks.{cid}]")
              for cid, entry in data.get("checks", {}).items()}
    return RuleSet(str(data.get("version", version)), str(data.get("zh", "")),
                   str(data.get("en", "")), checks, source=str(path))


def _spec(check_id: str, entry: dict, at: str) -> CheckSpec:
    kind = entry.get("type", check_id)
    if kind not in GENOTYPE_CHECKS:
        raise UserError(f"Unknown genotype check type {kind!r}", where=at,
                        hint="Types: " + ", ".join(sorted(GENOTYPE_CHECKS)))
    category, sub, severity, threshold, min_failing = grading(entry, at)
    params = dict(entry.get("params", {}))
    unknown = set(params) - set(GENOTYPE_CHECKS[kind].defaults)
    if unknown:
        raise UserError(f"Check type {kind} has no parameter {sorted(unknown)[0]!r}", where=at,
                        hint="Parameters: " + ", ".join(GENOTYPE_CHECKS[kind].defaults))
    return CheckSpec(check_id, kind, category, sub, severity, threshold,
                     str(entry.get("zh", check_id)), str(entry.get("en", check_id)), params,
                     (), min_failing)


# -- running --------------------------------------------------------------------------------

def genotype_qc(store: GenotypeStore, ruleset: RuleSet, *, dataset: str = "precimed",
                ) -> list[CheckResult]:
    """Score one dataset of the store under a genotype rule set."""
    samples = store.samples(dataset)["sample_index"].to_numpy()
    data = _Data(store, dataset, samples)
    results = []
    for spec in ruleset.checks.values():
        check = GENOTYPE_CHECKS[spec.type]
        for counted in check.fn(data, {**check.defaults, **spec.params}):
            results.append(CheckResult(
                spec.id, counted.instance, counted.table, "", spec.category,
                spec.subcategory, spec.severity, spec.threshold, counted.failing,
                counted.checked, status_of(spec, counted.failing, counted.checked),
                spec.params_hash()))
    return results


class _Data:
    """The dataset's counts, computed once and shared by the checks."""

    def __init__(self, store: GenotypeStore, dataset: str, samples: np.ndarray) -> None:
        self.store, self.dataset, self.samples = store, dataset, samples
        self.variants = store.variants()
        self.counts = store.counts(None, samples)
        # variants the dataset typed (others are missing for all of its samples)
        self.typed = self.counts["missing"] < len(samples)

    def genotypes(self, variants: np.ndarray) -> np.ndarray:
        return self.store.genotypes(variants, self.samples)

    def frequency(self) -> np.ndarray:
        an = self.counts["allele_number"]
        return np.divide(self.counts["allele_count"], an, out=np.full(len(an), np.nan),
                         where=an > 0)


@genotype_check(min_call_rate=0.98)
def sample_call_rate(data: _Data, params: dict) -> list[Counted]:
    """Samples called at fewer than min_call_rate of the dataset's variants (PLINK --mind)."""
    typed = np.nonzero(data.typed)[0]
    if not typed.size or not data.samples.size:
        return [Counted("samples", "genotype_sample", 0, 0)]
    called = np.zeros(data.samples.size)
    for start in range(0, typed.size, 4096):
        called += (data.genotypes(typed[start:start + 4096]) >= 0).sum(axis=1)
    failing = int((called / typed.size < params["min_call_rate"]).sum())
    return [Counted("samples", "genotype_sample", failing, int(data.samples.size))]


@genotype_check(min_call_rate=0.98)
def variant_call_rate(data: _Data, params: dict) -> list[Counted]:
    """Variants called in fewer than min_call_rate of the samples (PLINK --geno)."""
    rate = 1 - data.counts["missing"][data.typed] / max(1, data.samples.size)
    return [Counted("variants", "genotype_variant", int((rate < params["min_call_rate"]).sum()),
                    int(data.typed.sum()))]


def inbreeding_f(genotypes: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    """Per sample (rows) F = (O(hom) - E(hom)) / (N - E(hom)) over called variants."""
    called = genotypes >= 0
    expected_hom = 1 - 2 * frequency * (1 - frequency)
    observed = ((genotypes != 1) & called).sum(axis=1)
    expected = (called * expected_hom).sum(axis=1)
    n = called.sum(axis=1)
    return np.divide(observed - expected, n - expected, out=np.full(len(n), np.nan),
                     where=(n - expected) > 0)


def _autosomal(data: _Data) -> np.ndarray:
    return data.variants["chrom"].isin([str(i) for i in range(1, 23)]).to_numpy()


@genotype_check(max_sd=3.0, min_maf=0.01)
def heterozygosity(data: _Data, params: dict) -> list[Counted]:
    """Samples whose autosomal F lies more than max_sd SDs from the dataset's mean."""
    af = data.frequency()
    maf = np.minimum(af, 1 - af)
    chosen = np.nonzero(data.typed & _autosomal(data) & (maf >= params["min_maf"]))[0]
    if not chosen.size or data.samples.size < 3:
        return [Counted("samples", "genotype_sample", 0, 0)]
    f = inbreeding_f(data.genotypes(chosen), af[chosen])
    sd = np.nanstd(f)
    outlier = (np.abs(f - np.nanmean(f)) > params["max_sd"] * sd if sd > 0
               else np.zeros(f.size, dtype=bool))
    return [Counted("samples", "genotype_sample", int(outlier.sum()), int(data.samples.size))]


@genotype_check(female_max_f=0.2, male_min_f=0.8, min_variants=50)
def genetic_sex(data: _Data, params: dict) -> list[Counted]:
    """Samples whose genetic sex (X F coefficient, PAR excluded) disagrees with the
    recorded sex ("1" male, "2" female); an F between the cut-offs counts as failing."""
    variants = data.variants
    on_x = (variants["chrom"] == "X").to_numpy()
    for low, high in _PAR.get(data.store.build, ()):
        on_x &= ~variants["pos"].between(low, high).to_numpy()
    af = data.frequency()
    chosen = np.nonzero(on_x & data.typed & (af > 0) & (af < 1))[0]
    sex = data.store.samples(data.dataset)["sex"].to_numpy()
    recorded = np.isin(sex, ["1", "2"])
    if chosen.size < params["min_variants"] or not recorded.any():
        return [Counted("samples", "genotype_sample", 0, 0)]
    f = inbreeding_f(data.genotypes(chosen), af[chosen])
    genetic = np.where(f > params["male_min_f"], "1",
                       np.where(f < params["female_max_f"], "2", "?"))
    failing = int((recorded & (genetic != sex)).sum())
    return [Counted("samples", "genotype_sample", failing, int(recorded.sum()))]


@genotype_check(min_p=1e-6)
def hardy_weinberg(data: _Data, params: dict) -> list[Counted]:
    """Autosomal variants whose HWE exact p-value is below min_p (PLINK --hwe)."""
    chosen = data.typed & _autosomal(data)
    c = data.counts
    p = kernels.hwe_exact(c["het"][chosen], c["hom_ref"][chosen], c["hom_alt"][chosen])
    return [Counted("variants", "genotype_variant", int((p < params["min_p"]).sum()),
                    int(chosen.sum()))]


@genotype_check(reference="1kg-phase3", super_population="", max_abs_diff=0.2)
def reference_frequency(data: _Data, params: dict) -> list[Counted]:
    """Variants typed in both whose ALT frequency differs from the reference population's
    by more than max_abs_diff (a strand or allele swap, or a bad assay)."""
    if params["reference"] not in data.store.datasets:
        return [Counted("variants", "genotype_variant", 0, 0)]
    ref_samples = data.store.samples(params["reference"])
    if params["super_population"]:
        ref_samples = ref_samples[ref_samples["super_population"] == params["super_population"]]
    ref = data.store.counts(None, ref_samples["sample_index"].to_numpy())
    an = ref["allele_number"]
    both = data.typed & (an > 0) & (data.counts["allele_number"] > 0)
    diff = np.abs(data.frequency()[both] - ref["allele_count"][both] / an[both])
    return [Counted("variants", "genotype_variant", int((diff > params["max_abs_diff"]).sum()),
                    int(both.sum()))]
