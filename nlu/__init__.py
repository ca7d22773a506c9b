"""Natural-language understanding: the Rasa pipeline's data, its HTTP client and its tooling.

Keep this package importable from Rasa's own environment (standard library only at import time):
Rasa loads ``nlu.components`` from here.
"""
