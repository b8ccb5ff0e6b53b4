# Precedence: support was turned on at start-up (environment or -X), and the
# script turns it off before calling anything: the calls after that are
# direct, so only <module> (entered while active) can carry a py:: frame.
# Usage: deactivate_first.py [iterations]
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
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    sys.deactivate_stack_trampoline()
    print(sys.is_stack_trampoline_active())
    print(baz(n))
