# Reference numbers for precimed's Cox models, concordance, cox.zph, baseline hazards,
# predictions, Kaplan-Meier medians and log-rank tests on R survival's lung, pbc, colon and
# veteran data (exported by tests/validation/data/export_survival_data.R) and on the Rossi
# recidivism data shipped with lifelines.
# Run from the repository root (R 4.2.2, survival 3.5.3, jsonlite):
#   Rscript tests/validation/reference/cox_survival_data.R \
#     "$(.venv/bin/python -c 'import lifelines.datasets as d, os; print(os.path.join(os.path.dirname(d.__file__), "rossi.csv"))')" \
#     > tests/validation/reference/cox_survival_data.json
suppressMessages({library(survival); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- "tests/validation/data"
# Converged well below R's default eps (1e-9 on the log-likelihood), so that R's
# coefficients and ours agree to rounding rather than to R's stopping rule.
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 100)
read <- function(name) read.csv(file.path(data_dir, paste0(name, ".csv")))

cox <- function(fit, zph = TRUE, newdata = NULL, times = NULL) {
  out <- list(coef = unname(coef(fit)), names = names(coef(fit)),
              se = unname(sqrt(diag(vcov(fit)))), loglik = fit$loglik, score = fit$score,
              n = fit$n, nevent = fit$nevent,
              concordance = unname(fit$concordance[c("concordant", "discordant", "tied.x",
                                                     "tied.y", "tied.xy", "concordance", "std")]))
  if (!is.null(fit$naive.var)) out$se_naive <- sqrt(diag(fit$naive.var))
  bh <- basehaz(fit, centered = FALSE)
  out$basehaz <- list(time = bh$time, hazard = bh$hazard,
                      strata = if (is.null(bh$strata)) NULL else as.character(bh$strata))
  if (zph) {
    for (tr in c("km", "rank", "identity")) {
      z <- cox.zph(fit, transform = tr)
      out[[paste0("zph_", tr)]] <- list(chisq = unname(z$table[, "chisq"]),
                                        df = unname(z$table[, "df"]),
                                        p = unname(z$table[, "p"]))
    }
  }
  if (!is.null(newdata)) {
    out$predict_times <- times
    out$predict_survival <- lapply(seq_len(nrow(newdata)), function(i)
      summary(survfit(fit, newdata = newdata[i, , drop = FALSE]), times = times)$surv)
  }
  out
}

lung <- read("lung")
lung$female <- as.numeric(lung$sex == 2)
lung1 <- na.omit(lung[, c("time", "status", "age", "female", "ph.ecog", "inst")])
nd <- data.frame(age = c(50, 65, 75), female = c(0, 1, 0), ph.ecog = c(0, 1, 2))
times <- c(100, 200, 365, 500, 700)
f_lung <- coxph(control = ctl, Surv(time, status) ~ age + female + ph.ecog, data = lung1)
res <- list(R = R.version.string, survival = as.character(packageVersion("survival")))
res$lung <- cox(f_lung, newdata = nd, times = times)
res$lung$schoenfeld <- unname(residuals(f_lung, type = "schoenfeld"))
res$lung$scaled_schoenfeld <- unname(residuals(f_lung, type = "scaledsch"))
res$lung$score_residuals <- unname(residuals(f_lung, type = "score"))
res$lung_breslow <- cox(coxph(control = ctl, Surv(time, status) ~ age + female + ph.ecog, data = lung1,
                              ties = "breslow"), newdata = nd, times = times)
res$lung_robust <- cox(coxph(control = ctl, Surv(time, status) ~ age + female + ph.ecog, data = lung1,
                             robust = TRUE), zph = FALSE)
res$lung_cluster <- cox(coxph(control = ctl, Surv(time, status) ~ age + female + ph.ecog + cluster(inst),
                              data = lung1), zph = FALSE)
res$lung_breslow_cluster <- cox(coxph(control = ctl, Surv(time, status) ~ age + female + ph.ecog +
                                        cluster(inst), data = lung1, ties = "breslow"),
                                zph = FALSE)
lung1$w <- (seq_len(nrow(lung1)) %% 3) + 1
res$lung_weighted <- cox(coxph(control = ctl, Surv(time, status) ~ age + female + ph.ecog, data = lung1,
                               weights = w), zph = FALSE, newdata = nd, times = times)
res$lung_weighted_robust <- cox(coxph(control = ctl, Surv(time, status) ~ age + female + ph.ecog,
                                      data = lung1, weights = w, robust = TRUE), zph = FALSE)
nds <- data.frame(age = c(50, 65), ph.ecog = c(0, 2), female = c(0, 1))
res$lung_strata <- cox(coxph(control = ctl, Surv(time, status) ~ age + ph.ecog + strata(female),
                             data = lung1), newdata = nds, times = times)
km <- survfit(Surv(time, status) ~ female, data = lung)
res$lung_km_median_by_sex <- as.vector(quantile(km, probs = 0.5)$quantile)
res$lung_logrank_sex <- survdiff(Surv(time, status) ~ female, data = lung)$chisq

pbc <- read("pbc")
pbc1 <- na.omit(pbc[, c("time", "status", "age", "edema", "bili", "albumin", "protime", "trt")])
pbc_all <- na.omit(pbc[, c("time", "status", "age", "edema", "bili", "albumin", "protime")])
res$pbc <- cox(coxph(control = ctl, Surv(time, status == 2) ~ age + edema + log(bili) + log(albumin) +
                       log(protime), data = pbc_all))
res$pbc_strata <- cox(coxph(control = ctl, Surv(time, status == 2) ~ age + log(bili) + log(albumin) +
                              log(protime) + strata(edema), data = pbc_all))
res$pbc_trt_strata_robust <- cox(coxph(control = ctl, Surv(time, status == 2) ~ age + log(bili) +
                                         strata(trt), data = pbc1, robust = TRUE), zph = FALSE)
res$pbc_km_median <- as.vector(quantile(survfit(Surv(time, status == 2) ~ 1, data = pbc),
                                     probs = 0.5)$quantile)
res$pbc_logrank_trt <- survdiff(Surv(time, status == 2) ~ trt, data = pbc)$chisq

colon <- read("colon")
colon$lev <- as.numeric(colon$rx == "Lev")
colon$lev5fu <- as.numeric(colon$rx == "Lev+5FU")
res$colon <- cox(coxph(control = ctl, Surv(time, status) ~ lev + lev5fu + extent + node4 + strata(etype) +
                         cluster(id), data = colon), zph = FALSE)
death <- colon[colon$etype == 2, ]
res$colon_death_km_median_by_rx <- as.vector(quantile(survfit(Surv(time, status) ~ rx,
                                                           data = death), probs = 0.5)$quantile)
res$colon_death_logrank_rx <- survdiff(Surv(time, status) ~ rx, data = death)$chisq

vet <- read("veteran")
vet$treated <- as.numeric(vet$trt == 2)
ndv <- data.frame(karno = c(40, 80), age = c(60, 50), treated = c(1, 0), prior = c(0, 10),
                  celltype = c("squamous", "large"))
res$veteran <- cox(coxph(control = ctl, Surv(time, status) ~ karno + age + treated + prior, data = vet),
                   newdata = ndv, times = c(30, 90, 180, 365))
res$veteran_strata <- cox(coxph(control = ctl, Surv(time, status) ~ karno + age + treated + prior +
                                  strata(celltype), data = vet),
                          newdata = ndv, times = c(30, 90, 180))

rossi <- read.csv(args[1])
res$rossi <- cox(coxph(control = ctl, Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
                       data = rossi))
cat(toJSON(res, digits = NA, auto_unbox = TRUE, null = "null", na = "null"))
cat("\n")
