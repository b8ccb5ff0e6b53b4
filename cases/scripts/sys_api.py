# The run-time API: only the work done while the trampoline is active is named.
# Usage: sys_api.py [iterations]
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


def unprofiled_spin(n):
    total = 0
    for i in range(n):
        total += i
    return total


def unprofiled_work(n):
    return unprofiled_spin(n)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    sys.activate_stack_trampoline("perf")
    print(baz(n))
    sys.deactivate_stack_trampoline()
    print(unprofiled_work(n))
