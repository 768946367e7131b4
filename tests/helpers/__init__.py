"""Helpers shared by the tests: tiny checkpoints, Keras model builders, host-sync recording."""
