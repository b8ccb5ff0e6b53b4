import sys
x = 10_000
y = 3
print(x // y, x % y, x / y, -x // y, x ** 2, 2 ** 100, -7 % 3, 7.5 // 2)
a, b = 1, 2
a, b = b, a
print(a, b)
(c, d), e = (3, 4), 5
print(c, d, e)
first, *rest = [1, 2, 3, 4]
print(first, rest)
s = "hello world"
print(s[0], s[-1], s[1:4], s[::-1], s[::2], len(s))
print(s.upper(), s.split(), s.replace("l", "L"), s.find("wor"), "-".join(["a", "b", "c"]))
lst = [5, 3, 8, 1]
lst.append(7)
lst.sort()
print(lst, lst.pop(), lst, sorted(lst, reverse=True), lst[1:3])
d = {"a": 1, "b": 2}
d["c"] = 3
print(d, d.get("z"), d.get("a"), list(d.keys()), list(d.items()), "a" in d, len(d))
for k, v in d.items():
    print(k, v, end="; ")
print()
t = (1, 2, 3)
print(t, t[1], t + (4,), (1,), ())
print(1 < 2 < 3, 1 < 2 > 3, 3 == 3.0, "a" != "b", None is None, [] is not [], 2 in [1, 2], 5 not in (1, 2))
print(True and 5, 0 or "x", not 0, None or 0)
print(abs(-5), min(3, 1, 2), max([4, 9, 2]), sum([1, 2, 3]), sum([0.5, 0.25]))
print(int("42"), float("2.5"), str(3.0), int(7.9), int(-7.9), float(7), bool(""), bool([0]))
print(isinstance(3, int), isinstance(True, int), isinstance("x", (int, str)), isinstance(3.0, int))
print(list(range(5)), list(range(2, 10, 3)), list(range(5, 0, -2)), range(3), tuple(range(3)))
print(f"{x} {y:>4} {s!r} {3.14159:.2f} {x:,} {'inner'} {d['a']}")
print("{} and {}".format("a", "b"), "{1}{0}".format("x", "y"), "{name}!".format(name="hi"))
print("%s=%d (%.1f%%)" % ("n", 42, 99.5))
print(repr("it's"), repr('say "hi"'), repr("a\nb"), str(None))
print(1e16, 1e15, 0.1 + 0.2, 1/3, 2.0 ** 0.5, -0.0, float("inf"), 1e-5, 123.0)
print(2**63, -2**63, 2**64 // 3, (2**64) % 1000, 10**20 - 1, -(2**70))
n = 0
while n < 5:
    n += 1
    if n == 2:
        continue
    if n == 4:
        break
    print("n", n)
else:
    print("no")
for i in range(3):
    pass
else:
    print("else ran", i)
squares = [i * i for i in range(6) if i % 2 == 0]
print(squares, {k: k * 2 for k in "ab"}, [(i, j) for i in range(2) for j in range(2)])
print(sum(i for i in range(10)), any([0, 1]), all([1, 0]), list(enumerate("ab")), list(zip([1, 2], "xy")))
nested = [[1, 2], [3, 4]]
nested[0][1] = 9
print(nested, nested[1][-1])
del nested[0]
print(nested)
print(type(1), type("a"), type([]), type(None).__name__ if False else type(3.5))
print("abc" * 2, [0] * 3, 3 * "x", (1, 2) * 2)
print(divmod(17, 5), pow(2, 10), pow(3, 4, 5), round(2.5), round(3.5), round(2.675, 2), round(1234, -2))
print(chr(65), ord("a"), hex(255), bin(5), oct(8), hash(5))
print(sys.argv[1:], __name__, __file__ == sys.argv[0] or "abs")
print(max("abc", key=lambda c: -ord(c)), sorted(["bb", "a", "ccc"], key=len))
x = 5
x *= 3
x -= 1
x //= 2
x **= 2
print(x)
lst2 = [1]
lst3 = lst2
lst3 += [2]
print(lst2, lst2 is lst3)
print(str(1.5e300 * 1e10), -1e400, 1e400 - 1e400 != 1e400 - 1e400)
print("a,b".split(","), "  x ".strip(), "x".center(5, "*"), "5".zfill(3), "AbC".lower(), "a b".title())
print(set([1, 2, 2]), {1, 2} | {3}, len({1, 1, 2}))
