# Exports R survival's lung, pbc, colon, veteran and mgus2 data as CSV for precimed's
# validation tests (rows as in R; NA written as an empty field).
# Run from the repository root (R 4.2.2, survival 3.5.3):
#   Rscript tests/validation/data/export_survival_data.R
suppressMessages(library(survival))
out <- "tests/validation/data"
for (name in c("lung", "pbc", "colon", "veteran", "mgus2")) {
  d <- get(name, envir = asNamespace("survival"))
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE, na = "")
}
