"""Rendering for people: the explanation of one verdict and the summary of a scan."""
