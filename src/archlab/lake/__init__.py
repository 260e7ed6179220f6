"""The lake: delivery of records into partitioned Parquet, and the crawler that catalogs it."""
