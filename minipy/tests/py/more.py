# Strings, formatting, containers and control flow beyond the basics.
import sys
import os


def describe(v):
    return f"{type(v).__name__}:{v!r}"


values = [0, -1, 2**70, 1.5, float("nan") != float("nan"), "s", [1, "a"], (1,), {"k": (1, 2)}, None, True]
print(", ".join(describe(v) for v in values))
print(f"{'left':<8}|{'right':>8}|{'mid':^9}|{3.14159:8.3f}|{-42:+d}|{255:#06x}|{1e-7:g}|{12345.678:,.1f}")
print("{:>6}|{:<6}|{:^6}|{:06.2f}|{!r}".format("a", "b", "c", 3.14159, "q"))
print("%5s|%-5s|%05d|%x|%r|%%" % ("ab", "cd", 42, 255, "z"))
w = 7
print(f"{w:{w}d}|{'x' * 3}|{[i for i in range(3)]}|{ {'a': 1}['a'] }")
s = "The quick brown fox"
print(s.lower().count("o"), s.startswith("The"), s.endswith(("fox", "dog")), s.index("quick"), s.rfind("o"))
print(s.split(" ", 1), s.rsplit(" ", 1), s.partition(" "), s.title(), s.swapcase())
print("a-b-c".split("-"), "  pad  ".lstrip(), "  pad  ".rstrip() + "|", "xxhixx".strip("x"))
print("abc".isalpha(), "123".isdigit(), "a1".isalnum(), " ".isspace(), "Hi".isupper(), "ab".islower())
print(list("héllo"), "héllo"[1], len("héllo"), "héllo"[::-1], "é" in "héllo")
lst = list(range(10))
lst[2:5] = ["a", "b"]
print(lst, lst[-3:], lst[::3], lst[8:2:-2])
del lst[0:2]
print(lst)
lst.insert(0, "first")
lst.remove("a")
lst.extend((1, 2))
print(lst, lst.index("b"), lst.count(1), lst.copy() == lst, lst.copy() is lst)
d = {}
for word in "a b a c b a".split():
    d[word] = d.get(word, 0) + 1
print(d, sorted(d.items(), key=lambda kv: (-kv[1], kv[0])), d.pop("c"), d.setdefault("z", 9), d)
d.update({"y": 1}, q=2)
print(list(d), list(d.values()), dict(zip("ab", [1, 2])), dict([("x", 1)]), {})
counts = {k: v for k, v in d.items() if v > 1}
print(counts, {x % 3 for x in range(10)}, [[j for j in range(i)] for i in range(3)])
t = 0
i = 0
while True:
    i += 1
    if i % 2:
        continue
    t += i
    if i > 10:
        break
print(t, i)
for n in range(2, 20):
    for k in range(2, n):
        if n % k == 0:
            break
    else:
        print(n, end=" ")
print()
if (m := len(s)) > 10:
    print("walrus", m)
x = 5
print(1 < x <= 5 < 10, x if x > 3 else -x, not x, -x, +x, ~x, x ** -1, 7 % -3, -7 // 2, 2 ** 0.5 > 1.41)
print(True + True, True * 3, 3 / 2, 3 // 2, 3.0 // 2, -3 % 5, divmod(-7, 2), abs(-2**64))
print(int("ff", 16), int("0b101", 0), int(" -12 "), float(" 1e3 "), round(-0.5), round(1.25, 1), str(-0.0))
print(min([3, 1, 2], key=lambda v: -v), max("hello"), sum(range(101)), sorted("banana"), list(reversed([1, 2, 3])))
print(isinstance([], list), isinstance({}, dict), isinstance((), tuple), type(1.0) is float, callable(len), callable(1))


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


print([fib(k) for k in range(15)], fib(100))


def apply(fn, *rest):
    return fn(*rest)


print(apply(max, 3, 9, 4), apply(lambda: "none"))
matrix = [[1, 2, 3], [4, 5, 6]]
print([[row[c] for row in matrix] for c in range(3)], [v for row in matrix for v in row if v % 2])
print(os.getpid() > 0, os.environ.get("MINIPY_SURELY_UNSET", "unset"), len(sys.argv))
print("end")
