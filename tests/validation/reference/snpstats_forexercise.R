# Exports snpStats' for.exercise data (snps.10: 1,000 subjects, chromosome 10) to PLINK 1
# binary files for the association validation, and records snpStats' own numbers for it.
# Run (R 4.2.2, snpStats 1.48.0, Debian r-bioc-snpstats):
#   Rscript tests/validation/reference/snpstats_forexercise.R \
#     > tests/validation/reference/snpstats_forexercise.json
# Writes tests/validation/data/forexercise.{bed,bim,fam} (every 5th SNP: 5,701 SNPs) and
# tests/validation/data/forexercise.pheno (FID IID cc qt stratum). cc is the real
# case/control status coded 1/2 for plink2; stratum is 0 for CEU, 1 for JPT+CHB; qt is a
# trait simulated here from the real genotypes (seed 20240611).
suppressMessages(library(snpStats))
data(for.exercise)
out <- "tests/validation/data/"
keep <- seq(1, ncol(snps.10), by = 5)
snps <- snps.10[, keep]
support <- snp.support[keep, ]
ids <- rownames(snps)
invisible(capture.output(write.plink(paste0(out, "forexercise"), snps = snps, pedigree = ids, id = ids,
            father = rep(0, length(ids)), mother = rep(0, length(ids)),
            sex = rep(0, length(ids)), phenotype = rep(-9, length(ids)),
            chromosome = support$chromosome, position = support$position,
            allele.1 = support$A1, allele.2 = support$A2)))
# the genotype as a count of snpStats' allele B (A2 in snp.support)
g <- as(snps, "numeric")
stratum <- as.numeric(subject.support$stratum == "JPT+CHB")
set.seed(20240611)
causal <- c(100, 2000, 4000)
filled <- apply(g[, causal], 2, function(x) ifelse(is.na(x), mean(x, na.rm = TRUE), x))
qt <- 10 + filled %*% c(0.6, -0.4, 0.3) + 0.8 * stratum + rnorm(nrow(g))
pheno <- data.frame(FID = ids, IID = ids, cc = subject.support$cc + 1,
                    qt = round(qt[, 1], 6), stratum = stratum)
write.table(pheno, paste0(out, "forexercise.pheno"), quote = FALSE, row.names = FALSE,
            sep = "\t")
# snpStats' call and allele counts per SNP (to check the .bed reader), and for every 19th
# SNP R's Rao score test of adding the SNP (missing calls set to the SNP's mean) to
# glm(cc ~ stratum, binomial): the screening statistic of precimed's logistic_gwas.
summ <- col.summary(snps)
cc <- subject.support$cc
tight <- glm.control(epsilon = 1e-14, maxit = 100)
null <- glm(cc ~ stratum, family = binomial, control = tight)
rao_snps <- seq(1, ncol(g), by = 19)
rao <- sapply(rao_snps, function(j) {
  x <- g[, j]
  x[is.na(x)] <- mean(x, na.rm = TRUE)
  if (var(x) == 0) return(NA)
  anova(null, glm(cc ~ stratum + x, family = binomial, control = tight), test = "Rao")$Rao[2]
})
num <- function(x) paste0("[", paste(ifelse(is.na(x), "null", format(unname(x), digits = 15)),
                                     collapse = ", "), "]")
cat("{\n")
cat(' "snp": [', paste0('"', colnames(snps), '"', collapse = ", "), "],\n", sep = "")
cat(' "allele_b": [', paste0('"', support$A2, '"', collapse = ", "), "],\n", sep = "")
cat(' "calls": ', num(summ$Calls), ",\n", sep = "")
cat(' "allele_b_count": ', num(colSums(g, na.rm = TRUE)), ",\n", sep = "")
cat(' "rao_snp_index": ', num(rao_snps - 1), ",\n", sep = "")
cat(' "rao_chisq": ', num(rao), "\n", sep = "")
cat("}\n")
