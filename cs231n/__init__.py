"""cs231n: the one shared package behind the CS231n workbook notebooks.

Modules keep the official CS231n (Spring 2018) names: `layers`, `fast_layers`,
`solver`, `optim`, `data_utils`, `gradient_check`, `classifiers.*`, ...
Import them directly, e.g. `from cs231n.layers import affine_forward`.
"""
