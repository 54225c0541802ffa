"""Problems found in submitted data and the report that lists them: shared by ingest and
QC, below both."""
