# Work first (something to sample), then an invalid backend, not caught.
# Usage: invalid_backend.py [iterations]
import sys


def spin(n):
    total = 0
    for i in range(n):
        total += 1
    return total


n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
print(spin(n))
sys.activate_stack_trampoline("invalid")
print("not reached")
