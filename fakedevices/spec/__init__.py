"""Reading and validating farm specs (farmspec), field by field (reader), reporting problems."""
