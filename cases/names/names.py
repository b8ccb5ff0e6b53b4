# Names as CPython writes them: a class body (K), a method (K.m), a nested
# function (K.m.<locals>.inner) and a lambda inside it; each does the same
# work, so each stack carries a clear share of the samples.
# Usage: names.py iterations
import sys


def spin(n):
    total = 0
    for i in range(n):
        total += 1
    return total


n = int(sys.argv[1])


class K:
    warm = spin(n)

    def m(self, n):
        def inner(n):
            f = lambda k: spin(k)
            return f(n)

        return inner(n)


print(K.warm, K().m(n))
