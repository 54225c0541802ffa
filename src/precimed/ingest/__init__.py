"""Submissions in: one reader per source format, site column mappings, and the pipeline
stage → deid → qc → commit."""
