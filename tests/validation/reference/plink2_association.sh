#!/bin/sh
# Reference numbers for precimed's linear_gwas/logistic_gwas from PLINK v2.00a3.5 AVX2
# (9 Aug 2022; Debian package plink2), run from the repository root:
#   sh tests/validation/reference/plink2_association.sh
# Inputs: tests/validation/data/forexercise.* (snpStats' for.exercise, exported by
# snpstats_forexercise.R) and simgeno_*.bed (tests/validation/data/simgeno_make.py).
# Output: tests/validation/reference/plink2_association.json (the columns the tests use).
set -eu
D=tests/validation/data
T=$(mktemp -d)
P="plink2 --threads 2 --silent"
# for.exercise: ALT frequencies, a simulated trait on stratum, case/control on stratum
$P --bfile $D/forexercise --freq --out $T/fx
$P --bfile $D/forexercise --pheno $D/forexercise.pheno --pheno-name qt \
  --covar $D/forexercise.pheno --covar-name stratum --glm hide-covar --out $T/fx
$P --bfile $D/forexercise --pheno $D/forexercise.pheno --pheno-name cc \
  --covar $D/forexercise.pheno --covar-name stratum --glm firth-fallback hide-covar --out $T/fx
# simulated: three quantitative traits in one run (qt3 has missing values), and cc
for g in complete missing; do
  $P --bfile $D/simgeno_$g --pheno $D/simgeno.pheno --pheno-name qt1,qt2,qt3 \
    --covar $D/simgeno.pheno --covar-name age,female,pc1,pc2 --glm hide-covar --out $T/$g
  $P --bfile $D/simgeno_$g --pheno $D/simgeno.pheno --pheno-name cc \
    --covar $D/simgeno.pheno --covar-name age,female,pc1,pc2 \
    --glm firth-fallback hide-covar --out $T/$g
done
python3 tests/validation/reference/plink2_glm_to_json.py \
  tests/validation/reference/plink2_association.json "$(plink2 --version)" \
  forexercise_freq=$T/fx.afreq forexercise_qt=$T/fx.qt.glm.linear \
  forexercise_cc=$T/fx.cc.glm.logistic.hybrid \
  complete_qt1=$T/complete.qt1.glm.linear complete_qt2=$T/complete.qt2.glm.linear \
  complete_qt3=$T/complete.qt3.glm.linear complete_cc=$T/complete.cc.glm.logistic.hybrid \
  missing_qt1=$T/missing.qt1.glm.linear missing_qt2=$T/missing.qt2.glm.linear \
  missing_qt3=$T/missing.qt3.glm.linear missing_cc=$T/missing.cc.glm.logistic.hybrid
rm -r "$T"
