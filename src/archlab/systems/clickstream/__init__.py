"""The notes' clickstream analytics: the tracker's events collected, streamed, delivered into a
partitioned Parquet lake, crawled into the catalog and queried with SQL."""
