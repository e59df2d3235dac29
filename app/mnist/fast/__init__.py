"""Optional compiled training kernel (Numba): ``pip install gdviz[fast]``."""
