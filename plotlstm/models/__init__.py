"""Stage 3: the networks (plain ``nn.Module``), the LightningModule that trains them, training callbacks."""
