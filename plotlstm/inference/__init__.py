"""Stage 4: load a trained network from a checkpoint, classify images, evaluate and report."""
