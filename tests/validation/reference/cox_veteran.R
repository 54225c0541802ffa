# Reference numbers for precimed's Cox model on R survival's veteran data.
# Run: Rscript tests/validation/reference/cox_veteran.R > tests/validation/reference/cox_veteran.json
suppressMessages(library(survival))
v <- veteran
v$treated <- as.numeric(v$trt == 2)
num <- function(x) paste0("[", paste(format(unname(x), digits = 15), collapse = ", "), "]")
cat("{\n")
for (ties in c("efron", "breslow")) {
  f <- coxph(Surv(time, status) ~ karno + age + treated + prior, data = v, ties = ties)
  cat(' "', ties, '": {"coef": ', num(coef(f)), ', "se": ', num(sqrt(diag(vcov(f)))),
      ', "loglik": ', num(f$loglik), ', "concordance": ', format(f$concordance[["concordance"]], digits = 15),
      ', "score_test": ', format(f$score, digits = 15), '},\n', sep = "")
}
cat(' "covariates": ["karno", "age", "treated", "prior"]\n')
cat("}\n")
