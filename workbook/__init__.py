"""Workbook tooling, kept apart from the course code in `cs231n/`.

What the notebooks call (shipped in the student kit too):
  results.record      print a measured result against its target (and log it under `make run`)
  timing              best-of-n wall time, GFLOP/s
  figures             export a README figure (full-data runs only)
  display             show the source of a package function inside a notebook

What only the maintainers use (not in the student kit):
  run_notebooks       `make run`: execute the notebooks, tabulate results, update RESULTS.md
  starter             `make starter`: the student kit built from the solutions
"""
