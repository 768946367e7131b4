"""Stage 2: read plot images into model input (one preprocessing function), as datasets and a DataModule."""
