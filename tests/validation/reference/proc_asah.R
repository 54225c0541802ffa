# Reference numbers for precimed.analysis.biomarker on pROC's aSAH data (Turck et al. 2010;
# 113 patients with aneurysmal subarachnoid haemorrhage; see tests/validation/data/README-biomarker.md).
# Run from the repository root:
#   Rscript tests/validation/reference/proc_asah.R > tests/validation/reference/proc_asah.json
# Produced with R 4.2.2, pROC 1.18.0, metafor 3.8.1, jsonlite 1.8.4 (Debian bookworm packages
# r-cran-proc, r-cran-metafor). It also writes tests/validation/data/asah.csv (the data as
# pROC ships it) and tests/validation/data/asah_calibration.csv (predicted risks, below).
suppressMessages({library(pROC); library(metafor); library(jsonlite)})
data(aSAH)
d <- data.frame(gos6 = as.integer(as.character(aSAH$gos6)), outcome = as.character(aSAH$outcome),
                gender = as.character(aSAH$gender), age = aSAH$age,
                wfns = as.integer(as.character(aSAH$wfns)), s100b = aSAH$s100b, ndka = aSAH$ndka)
write.csv(d, "tests/validation/data/asah.csv", row.names = FALSE)
d$poor <- as.integer(d$outcome == "Poor")

q <- function(...) roc(..., levels = c("Good", "Poor"), quiet = TRUE)
coords_at <- function(r, thresholds) {
  x <- coords(r, thresholds, input = "threshold", ret = c("threshold", "specificity", "sensitivity"),
              transpose = FALSE)
  as.list(x)
}
describe <- function(r, thresholds) {
  all <- coords(r, "all", ret = c("threshold", "specificity", "sensitivity"), transpose = FALSE)
  best <- coords(r, "best", best.method = "youden", ret = c("threshold", "specificity", "sensitivity"),
                 transpose = FALSE)
  # the rule precimed's threshold_at_specificity documents: among thresholds with
  # specificity >= 0.9, the highest sensitivity (then the highest specificity)
  ok <- all[all$specificity >= 0.9, ]
  ok <- ok[order(-ok$sensitivity, -ok$specificity), ][1, ]
  ci <- as.numeric(ci.auc(r, method = "delong", conf.level = 0.95))
  ci90 <- as.numeric(ci.auc(r, method = "delong", conf.level = 0.90))
  list(direction = r$direction, n_cases = length(r$cases), n_controls = length(r$controls),
       auc = as.numeric(auc(r)), var_delong = var(r, method = "delong"),
       ci_delong = ci[c(1, 3)], ci90_delong = ci90[c(1, 3)],
       all = as.list(all), youden = as.list(best),
       at_thresholds = coords_at(r, thresholds),
       spec90 = as.list(ok))
}
test <- function(r1, r2, ...) {
  t <- roc.test(r1, r2, method = "delong", ...)
  Filter(Negate(is.null), list(
    statistic = unname(t$statistic), p_value = t$p.value, auc = unname(t$estimate),
    method = t$method, df = unname(t$parameter), conf_int = as.numeric(t$conf.int)))
}

s100b <- q(d$outcome, d$s100b)
ndka <- q(d$outcome, d$ndka)
wfns <- q(d$outcome, d$wfns)
s100b_gt <- q(d$outcome, d$s100b, direction = ">")
men <- d$gender == "Male"
s100b_men <- q(d$outcome[men], d$s100b[men], direction = "<")
s100b_women <- q(d$outcome[!men], d$s100b[!men], direction = "<")

# pseudo-centres: gender x age over 50; the direction fixed as in the pooled data
d$centre <- paste(d$gender, ifelse(d$age > 50, "over50", "upto50"), sep = "_")
centres <- sort(unique(d$centre))
pool <- function(marker) {
  per <- lapply(centres, function(c) q(d$outcome[d$centre == c], d[[marker]][d$centre == c],
                                       direction = "<"))
  yi <- sapply(per, function(r) as.numeric(auc(r)))
  vi <- sapply(per, function(r) var(r, method = "delong"))
  re <- rma(yi = yi, vi = vi, method = "DL")
  fe <- rma(yi = yi, vi = vi, method = "FE")
  list(marker = marker, centres = centres, auc = yi, var = vi,
       n_cases = sapply(per, function(r) length(r$cases)),
       n_controls = sapply(per, function(r) length(r$controls)),
       random = as.numeric(re$b), random_se = re$se, random_ci = c(re$ci.lb, re$ci.ub),
       fixed = as.numeric(fe$b), fixed_se = fe$se, fixed_ci = c(fe$ci.lb, fe$ci.ub),
       tau2 = re$tau2, Q = re$QE, Q_p = re$QEp, I2 = re$I2,
       weights_random = unname(weights(re)), weights_fixed = unname(weights(fe)))
}

# calibration: a logistic model fitted on the men, its predicted risks validated on the women
model <- glm(poor ~ s100b + age + wfns, family = binomial, data = d[men, ])
women <- d[!men, ]
women$p <- predict(model, newdata = women, type = "response")
write.csv(data.frame(poor = women$poor, p = sprintf("%.17g", women$p)),
          "tests/validation/data/asah_calibration.csv", row.names = FALSE, quote = FALSE)
lp <- qlogis(women$p)
tight <- glm.control(epsilon = 1e-15, maxit = 100)  # converge fully: glm stops at 1e-8
cal_int <- glm(women$poor ~ 1, offset = lp, family = binomial, control = tight)
cal_slope <- glm(women$poor ~ lp, family = binomial, control = tight)
# Hosmer-Lemeshow with groups cut at the deciles of predicted risk, as
# ResourceSelection::hoslem.test defines it (that package is not packaged for Debian)
g <- 10
groups <- cut(women$p, breaks = quantile(women$p, probs = seq(0, 1, 1 / g)), include.lowest = TRUE)
observed <- tapply(women$poor, groups, sum)
expected <- tapply(women$p, groups, sum)
size <- tapply(women$p, groups, length)
hl <- sum((observed - expected)^2 / expected + ((size - observed) - (size - expected))^2 / (size - expected))

out <- list(
  R = R.version.string, pROC = as.character(packageVersion("pROC")),
  metafor = as.character(packageVersion("metafor")),
  s100b = describe(s100b, c(0.1, 0.205, 0.3, 0.5, 0.52)),
  ndka = describe(ndka, c(5, 10, 11.08, 20, 30)),
  wfns = describe(wfns, c(2, 3, 4)),
  s100b_greater = describe(s100b_gt, c(0.1, 0.205, 0.3)),
  test_s100b_ndka = test(s100b, ndka, paired = TRUE),
  test_wfns_s100b = test(wfns, s100b, paired = TRUE),
  test_s100b_men_women = test(s100b_men, s100b_women, paired = FALSE),
  multicentre_s100b = pool("s100b"),
  multicentre_wfns = pool("wfns"),
  calibration = list(n = nrow(women), events = sum(women$poor),
                     intercept = unname(coef(cal_int)), intercept_se = sqrt(vcov(cal_int)[1, 1]),
                     intercept_ci = unname(confint.default(cal_int)[1, ]),
                     slope = unname(coef(cal_slope)[2]), slope_se = sqrt(vcov(cal_slope)[2, 2]),
                     slope_ci = unname(confint.default(cal_slope)[2, ]),
                     hl_statistic = hl, hl_df = g - 2, hl_p = pchisq(hl, g - 2, lower.tail = FALSE),
                     hl_observed = unname(observed), hl_expected = unname(expected),
                     hl_size = unname(size))
)
cat(toJSON(out, auto_unbox = TRUE, digits = I(17), pretty = TRUE), "\n")
