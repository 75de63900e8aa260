"""Predictive segments: probabilistic models of repeat purchasing fitted to a purchase history."""
