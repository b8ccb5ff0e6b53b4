class MyError(Exception):
    pass


class DetailError(ValueError):
    def __init__(self, code):
        super().__init__(f"code {code}")
        self.code = code


def risky(n):
    if n == 0:
        raise ValueError("zero")
    if n == 1:
        raise MyError("one", 1)
    if n == 2:
        raise DetailError(42)
    if n == 3:
        return 1 // 0
    if n == 4:
        return [][5]
    if n == 5:
        return {}["k"]
    if n == 6:
        return undefined_name
    if n == 7:
        return None.attr
    if n == 8:
        return int("x")
    if n == 9:
        assert n == 0, "assert msg"
    return "ok"


for i in range(11):
    try:
        print(i, risky(i))
    except (ValueError, MyError) as e:
        print(i, "caught", type(e).__name__, e, e.args)
    except ZeroDivisionError as e:
        print(i, "zde", e)
    except LookupError as e:
        print(i, "lookup", type(e).__name__, repr(e))
    except Exception as e:
        print(i, "other", type(e).__name__, str(e))
    finally:
        print("finally", i)


def f():
    try:
        return "try"
    finally:
        print("cleanup")


print(f())


def g():
    for i in range(3):
        try:
            if i == 1:
                continue
            if i == 2:
                break
        finally:
            print("fin", i)
    return i


print(g())
try:
    try:
        raise KeyError("inner")
    except KeyError:
        raise
except KeyError as e:
    print("reraised", e)
try:
    raise RuntimeError
except RuntimeError as e:
    print("class raise", repr(e))
e = DetailError(7)
print(e.code, str(e), isinstance(e, ValueError), isinstance(e, Exception))
try:
    try:
        1 / 0
    except ZeroDivisionError:
        raise ValueError("while handling")
except ValueError as err:
    print("chained", err)
try:
    raise ValueError("x") from None
except ValueError as err:
    print("from none", err)
print("else:")
try:
    x = 1
except Exception:
    print("no")
else:
    print("else branch", x)
import sys
try:
    sys.exit(3)
except SystemExit as se:
    print("exit caught", se.args)
try:
    def rec(n):
        return rec(n + 1)
    rec(0)
except RecursionError as re:
    print("recursion", re)
try:
    len(5)
except TypeError as te:
    print(te)
try:
    risky()
except TypeError as te:
    print(te)
try:
    [1, 2].index(7)
except ValueError as ve:
    print(ve)
try:
    x, y = [1, 2, 3]
except ValueError as ve:
    print(ve)
