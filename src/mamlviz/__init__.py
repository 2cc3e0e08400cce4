"""mamlviz: model-agnostic meta-learning in pure NumPy, for an explainer whose figures compute live.

The same code runs natively (tests, site build, command line) and in the reader's browser under Pyodide.
"""

__version__ = "0.1.0"
