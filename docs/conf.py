"""Sphinx configuration: API pages from the docstrings in ../src, furo theme, fully offline.

Build with ``python -m sphinx -W -q -b html docs build/html`` from the repository root.
"""

import os
import sys

sys.path.insert(0, os.path.abspath("../src"))

import xpnet  # noqa: E402  (after the path insert, so autodoc documents this checkout)

project = "xpnet"
author = "the xpnet developers"
copyright = "the xpnet developers"  # noqa: A001 - Sphinx's name
release = version = xpnet.__version__

# No sphinx.ext.intersphinx: it downloads inventories, and the docs must build offline.
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]

# The docstrings are numpydoc.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# `name` in a docstring links to that object where Sphinx can resolve it, else shows as code.
default_role = "py:obj"
# Unresolvable references (array types from other libraries) are not errors.
nitpicky = False

exclude_patterns = ["_build"]
html_theme = "furo"
html_title = f"xpnet {release}"
