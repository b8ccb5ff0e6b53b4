# The sys API across transitions; every line shows the state after a call.
# Usage: is_active.py [iterations]
import sys


def spin(n):
    total = 0
    for i in range(n):
        total += 1
    return total


n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
print("start", sys.is_stack_trampoline_active())
sys.activate_stack_trampoline("perf")
print("activated", sys.is_stack_trampoline_active())
sys.activate_stack_trampoline("perf")
print("activated again", sys.is_stack_trampoline_active())
print(spin(n))
sys.deactivate_stack_trampoline()
print("deactivated", sys.is_stack_trampoline_active())
sys.deactivate_stack_trampoline()
print("deactivated again", sys.is_stack_trampoline_active())
try:
    sys.activate_stack_trampoline(1)
except TypeError as e:
    print("TypeError:", e)
try:
    sys.activate_stack_trampoline()
except TypeError as e:
    print("TypeError:", e)
try:
    sys.activate_stack_trampoline("x")
except ValueError as e:
    print("ValueError:", e)
print("end", sys.is_stack_trampoline_active())
