"""`python -m pkh`: the `pkh` command run from this checkout's code, whatever environment runs it
(the Makefile calls it so, and a second checkout can reuse an environment; see the README)."""

from pkh.cli import app

app(prog_name="pkh")
