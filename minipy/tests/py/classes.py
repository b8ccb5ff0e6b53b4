class Animal:
    kind = "animal"
    count = 0

    def __init__(self, name, sound="..."):
        self.name = name
        self.sound = sound
        Animal.count += 1

    def speak(self):
        return f"{self.name} says {self.sound}"

    def __repr__(self):
        return f"Animal({self.name!r})"


class Dog(Animal):
    kind = "dog"

    def __init__(self, name):
        super().__init__(name, "woof")

    def speak(self):
        return super().speak() + "!"

    def __str__(self):
        return "Dog " + self.name


a = Animal("cat", "meow")
d = Dog("rex")
print(a.speak(), d.speak(), Animal.count, d.kind, a.kind, Dog.kind)
print(repr(a), str(d), [a, d], isinstance(d, Animal), isinstance(a, Dog))
m = d.speak
print(m())


class Counter:
    def __init__(self):
        self.n = 0

    def inc(self, by=1):
        self.n += by
        return self

    def __len__(self):
        return self.n

    def __eq__(self, other):
        return isinstance(other, Counter) and other.n == self.n

    def __lt__(self, other):
        return self.n < other.n

    def __add__(self, other):
        c = Counter()
        c.n = self.n + other.n
        return c

    def __getitem__(self, i):
        return i * 10


c = Counter().inc().inc(5)
print(c.n, len(c), bool(Counter()), c == Counter().inc(6), c[3], (c + c).n, sorted([c, Counter()])[0].n)


def make_adder(n):
    def add(x):
        return x + n
    return add


add5 = make_adder(5)
print(add5(10), make_adder(1)(1))


def counter():
    count = 0

    def inc():
        nonlocal count
        count += 1
        return count
    return inc


inc = counter()
inc()
print(inc(), inc())


def outer():
    x = "outer"

    def middle():
        def inner():
            return x
        return inner()
    return middle()


print(outer())
total = 0


def add_global(v):
    global total
    total += v


add_global(3)
add_global(4)
print(total)
fs = [lambda i=i: i * 2 for i in range(3)]
print([f() for f in fs])
print((lambda a, b=2: a + b)(1), list(map(lambda v: v + 1, [1, 2])), list(filter(None, [0, 1, 2])))


def defaults(a, b=[]):
    b.append(a)
    return b


print(defaults(1), defaults(2))


def kw(a, b=2, c=3):
    return a, b, c


print(kw(1, c=9), kw(a=0), kw(1, 2, 3))


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


p = Point(1, 2)
p.z = 3
print(p.x + p.y + p.z, hasattr(p, "z"), getattr(p, "q", "none"))
setattr(p, "x", 10)
print(p.x, type(p).__name__, Point.__name__)


class Base:
    def hello(self):
        return "base " + self.name()

    def name(self):
        return "B"


class Child(Base):
    def name(self):
        return "C"


print(Child().hello(), Base().hello())
