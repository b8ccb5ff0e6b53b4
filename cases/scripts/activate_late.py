# Precedence: nothing turns support on at start-up; the script activates it
# half-way. Work before the call has no py:: frame; calls made after it do.
# Usage: activate_late.py [iterations]
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


def spin_before(n):
    total = 0
    for i in range(n):
        total += i
    return total


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    print(spin_before(n))
    print(sys.is_stack_trampoline_active())
    sys.activate_stack_trampoline("perf")
    print(sys.is_stack_trampoline_active())
    print(baz(n))
