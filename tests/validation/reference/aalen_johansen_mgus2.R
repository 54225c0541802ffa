# Reference numbers for precimed's Aalen-Johansen estimator: cumulative incidence of
# progression to a plasma cell malignancy (PCM) and of death without it, R survival's mgus2
# data (Kyle et al., N Engl J Med 2002;346:564-569) as in the survival package's
# competing-risks vignette, exported by tests/validation/data/export_survival_data.R.
# Run from the repository root (R 4.2.2, survival 3.5.3, jsonlite):
#   Rscript tests/validation/reference/aalen_johansen_mgus2.R > tests/validation/reference/aalen_johansen_mgus2.json
suppressMessages({library(survival); library(jsonlite)})
d <- read.csv("tests/validation/data/mgus2.csv")
d$etime <- ifelse(d$pstat == 0, d$futime, d$ptime)
d$event <- ifelse(d$pstat == 0, 2 * d$death, d$pstat)
d$event <- factor(d$event, 0:2, labels = c("censor", "pcm", "death"))
fit <- survfit(Surv(etime, event) ~ 1, data = d)  # std.err: infinitesimal jackknife
times <- c(12, 60, 120, 180, 240, 300, 360)
s <- summary(fit, times = times)
by_sex <- survfit(Surv(etime, event) ~ sex, data = d)
sf <- summary(by_sex, times = c(60, 120, 240))
res <- list(R = R.version.string, survival = as.character(packageVersion("survival")),
            states = fit$states, conf_type = fit$conf.type,
            time = fit$time, n_risk = fit$n.risk[, 1], pstate = fit$pstate,
            std_err = fit$std.err,
            at = list(time = s$time, n_risk = s$n.risk[, 1], pstate = s$pstate,
                      std_err = s$std.err, lower = s$lower, upper = s$upper),
            by_sex = list(strata = as.character(sf$strata), time = sf$time,
                          pstate = sf$pstate, std_err = sf$std.err))
cat(toJSON(res, digits = NA, auto_unbox = TRUE, matrix = "columnmajor"))
cat("\n")
