"""Stage 1: simulate a data set per plot, draw its "Residuals vs Fitted" plot, write an ImageFolder of them."""
