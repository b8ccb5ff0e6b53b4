# fork: parent and child each call their own function; the child's calls are
# named in /tmp/perf-<childpid>.map. Nothing is printed before the fork, so
# no buffered output is duplicated.
# Usage: fork.py iterations
import os
import sys


def spin(n):
    total = 0
    for i in range(n):
        total += 1
    return total


def child_work(n):
    return spin(n)


def parent_work(n):
    return spin(n)


n = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    child_work(n)
else:
    parent_work(n)
    os.waitpid(pid, 0)
    print("parent done")
