"""PKH Assistant: the composition root (settings, command line) shared by every part."""
