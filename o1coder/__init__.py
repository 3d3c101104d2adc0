"""o1coder: reasoning-based code generation after O1-CODER (arXiv 2412.00154).

Importing the package is cheap: no torch, no model libraries. Submodules import what they need.
"""

__version__ = "0.1.0"
