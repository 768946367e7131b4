"""Bring models made elsewhere over: the original Keras model's weights."""
