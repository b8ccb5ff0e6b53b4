# Switching backends at run time. Started with -X perf (perf map); phase 1
# calls the perf_* functions, then activate_stack_trampoline("perf_jit")
# switches to the jitdump and phase 2 calls the jit_* functions, then
# activate_stack_trampoline("perf") switches back and phase 3 calls the
# back_* functions. Distinct functions per phase: the map and the dump show
# which phase made which stub.
# Usage: switch_backends.py [iterations per phase]
import sys


def perf_foo(n):
    result = 0
    for _ in range(n):
        result += 1
    return result


def perf_bar(n):
    return perf_foo(n)


def perf_baz(n):
    return perf_bar(n)


def jit_foo(n):
    result = 0
    for _ in range(n):
        result += 1
    return result


def jit_bar(n):
    return jit_foo(n)


def jit_baz(n):
    return jit_bar(n)


def back_foo(n):
    result = 0
    for _ in range(n):
        result += 1
    return result


def back_bar(n):
    return back_foo(n)


def back_baz(n):
    return back_bar(n)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    print("phase 1", sys.is_stack_trampoline_active(), perf_baz(n))
    sys.activate_stack_trampoline("perf_jit")
    print("phase 2", sys.is_stack_trampoline_active(), jit_baz(n))
    sys.activate_stack_trampoline("perf")
    print("phase 3", sys.is_stack_trampoline_active(), back_baz(n))
