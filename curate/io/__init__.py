"""Reading every DATASET form as Arrow batches, and writing Parquet shards atomically."""
