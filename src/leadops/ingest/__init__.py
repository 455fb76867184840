"""Getting leads, activities and deals in: normalization, dedup, accounts, files and batches."""
