# The seed script: foo does the work, entered baz -> bar -> foo.
# Usage: seed.py [iterations]   (default 10_000_000, the benchmark size)
import sys


def foo(n):
    result = 0
    for _ in range(n):
        result += 1
    return result


def bar(n):
    return foo(n)


def baz(n):
    return bar(n)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    print(baz(n))
