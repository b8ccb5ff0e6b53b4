# Call-heavy benchmark: two nested calls per loop iteration.
# Usage: call_heavy.py [iterations]   (default 2_000_000)
import sys


def inner(x):
    return x + 1


def middle(x):
    return inner(x) + 1


def run(n):
    total = 0
    for i in range(n):
        total = middle(total)
    return total


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    print(run(n))
