# Recursion: rec calls itself `depth` times, and the innermost call does the
# work, so nearly every sample holds `depth` nested rec frames.
# Usage: recursion.py depth iterations
import sys


def rec(depth, n):
    if depth > 1:
        return rec(depth - 1, n)
    total = 0
    for i in range(n):
        total += 1
    return total


depth = int(sys.argv[1])
n = int(sys.argv[2])
print(rec(depth, n))
