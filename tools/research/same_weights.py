#!/usr/bin/python3
"""Whether two ONNX models hold the same weights: every initializer the two
share by name, compared bit for bit, and the names only one of them has
(issue #20: a clip-free net trained with train.py --loss-on-clamp against its
clipped twin, whose file adds the Clip's bounds).

    /usr/bin/python3 tools/research/same_weights.py A.onnx B.onnx

Exits 0 when every shared initializer is bit-identical, 1 otherwise.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def initializers(path):
    return {i.name: numpy_helper.to_array(i) for i in onnx.load(path).graph.initializer}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = initializers(sys.argv[1]), initializers(sys.argv[2])
    shared = sorted(set(a) & set(b))
    differ = [n for n in shared
              if a[n].dtype != b[n].dtype or a[n].shape != b[n].shape
              or not np.array_equal(a[n].view(np.uint8), b[n].view(np.uint8))]
    print("%d shared initializers, %d differ%s" % (len(shared), len(differ),
                                                   (": " + ", ".join(differ)) if differ else ""))
    for path, own, other in ((sys.argv[1], a, b), (sys.argv[2], b, a)):
        only = sorted(set(own) - set(other))
        if only:
            print("only in %s: %s" % (path, ", ".join(only)))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
