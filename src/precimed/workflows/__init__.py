"""Use cases that span packages (submit a genotype dataset, analyse a cohort on a
release): the one place that orchestrates the domain packages."""
