"""The simulated shop: product catalogue, shoppers and bots, precomputed as JSON fragments.

Input: a seed and pool sizes. Output: a ``World`` whose products, users and bots already carry the
JSON text of their fields, so the hot loop only joins strings. Faker (user agents, IPs, countries,
product names) runs here, once, off the hot path.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from urllib.parse import quote_plus

from faker import Faker

from clickstream.generator.formatting import USER_ID_WIDTH

SHOP_URL = "https://shop.example.com"

# category -> (product nouns, median price). Prices spread log-normally around the median.
CATEGORIES: dict[str, tuple[tuple[str, ...], float]] = {
    "electronics": (("headphones", "charger", "speaker", "keyboard", "mouse", "monitor"), 60.0),
    "books": (("novel", "cookbook", "biography", "atlas", "comic", "notebook"), 15.0),
    "home": (("lamp", "cushion", "rug", "vase", "blanket", "wall clock"), 35.0),
    "kitchen": (("kettle", "frying pan", "knife set", "blender", "mug", "toaster"), 40.0),
    "fashion": (("t-shirt", "jacket", "sneakers", "scarf", "backpack", "jeans"), 45.0),
    "beauty": (("lipstick", "face cream", "shampoo", "perfume", "nail polish"), 20.0),
    "sports": (("yoga mat", "dumbbell", "water bottle", "running shoes", "tennis racket"), 50.0),
    "toys": (("puzzle", "board game", "plush bear", "building blocks", "kite"), 25.0),
    "garden": (("hose", "shovel", "planter", "seeds", "gloves"), 22.0),
    "grocery": (("coffee beans", "olive oil", "chocolate", "tea", "pasta"), 9.0),
}
SEARCH_MODIFIERS = ("", "cheap ", "best ", "buy ", "new ", "sale ")
REFERRERS = (
    "",  # direct visit
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://www.facebook.com/",
    "https://www.instagram.com/",
    "https://t.co/",
    "https://newsletter.example.com/",
)
REFERRER_WEIGHTS = (30, 35, 6, 4, 9, 8, 3, 5)
DEVICE_WEIGHTS = {"desktop": 45, "mobile": 47, "tablet": 8}
COUNTRY_WEIGHTS = {"US": 35, "GB": 10, "DE": 9, "FR": 7, "IN": 6, "BR": 5, "CA": 5, "JP": 4}
OTHER_COUNTRIES_WEIGHT = 19
BOT_USER_AGENTS = (
    "python-requests/2.32.3",
    "Scrapy/2.11.2 (+https://scrapy.org)",
    "curl/8.9.1",
    "Go-http-client/1.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/126.0.0.0 Safari/537.36",
)
# Size of the lookup tables the hot loop indexes with ``getrandbits(16)``.
TABLE_BITS = 16
TABLE_SIZE = 1 << TABLE_BITS
PURCHASE_QUANTITIES = (1, 2, 3)
QUANTITY_WEIGHTS = (80, 15, 5)


def _text(value: str) -> str:
    """A JSON string literal."""
    return json.dumps(value)


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    category: str
    price: float


@dataclass(frozen=True)
class Catalog:
    """Products with the JSON fragment of each event type about them.

    ``view[i]``, ``cart[i]`` and ``purchase[q][i]`` are the product fields of a page view, an
    add-to-cart and a purchase of quantity ``q`` (no braces, a trailing comma); ``searches`` are the
    fields of search events; ``popular`` maps a 16-bit random number to a product index (popular ones often).
    """

    products: tuple[Product, ...]
    view: tuple[str, ...]
    cart: tuple[str, ...]
    purchase: dict[int, tuple[str, ...]]
    searches: tuple[str, ...]
    popular: tuple[int, ...]


# Users are numbered; their ids and profiles are computed from the number when a session needs them,
# so a pool of a million users costs nothing to build. Multiplying by a number coprime to 10**9
# spreads consecutive numbers over the id space without collisions.
_ID_SPACE = 10 ** (USER_ID_WIDTH - 1)
_ID_STRIDE = 387_420_489  # 3**18
_PROFILE_STRIDE = 2_654_435_761


@dataclass(frozen=True)
class UserPool:
    """Users ``first .. first + count - 1`` of the id sequence and the profiles they share.

    A profile is the JSON text from ``"device"`` to the end of the line (device, user agent, IP,
    country); ``tail(i)`` is the profile of user ``i``, ``user_id(i)`` its ``u<9 digits>`` id.
    """

    first: int
    count: int
    id_offset: int
    profiles: tuple[str, ...]

    def id_number(self, index: int) -> int:
        """The 9 digits of user ``index``'s id, as a number."""
        return ((self.first + index) * _ID_STRIDE + self.id_offset) % _ID_SPACE

    def user_id(self, index: int) -> str:
        return f"u{self.id_number(index):09d}"

    def tail(self, index: int) -> str:
        return self.profiles[(index * _PROFILE_STRIDE >> 7) % len(self.profiles)]

    def formulas(self) -> tuple[int, int, int, int]:
        """``(stride, base, space, profile_stride)``: ``id_number(i)`` is
        ``(i * stride + base) % space`` and ``tail(i)`` is
        ``profiles[(i * profile_stride >> 7) % len(profiles)]``, for a hot loop to inline."""
        return _ID_STRIDE, self.first * _ID_STRIDE + self.id_offset, _ID_SPACE, _PROFILE_STRIDE

    def all_ids(self) -> list[str]:
        return [self.user_id(index) for index in range(self.count)]


@dataclass(frozen=True)
class World:
    """Everything an event is made of: catalogue, shoppers, bots, referrers (repeated by weight)."""

    catalog: Catalog
    users: UserPool
    bots: UserPool
    referrer_parts: tuple[str, ...]

    @property
    def bot_ids(self) -> frozenset[str]:
        return frozenset(self.bots.all_ids())


def _price(rng: random.Random, median: float) -> float:
    """A shop price near ``median``: log-normal spread, ending in .99."""
    return max(1, round(median * rng.lognormvariate(0, 0.5))) - 0.01


def _products(rng: random.Random, fake: Faker, count: int) -> list[Product]:
    names = list(CATEGORIES)
    products = []
    for index in range(count):
        category = names[index % len(names)]
        nouns, median = CATEGORIES[category]
        name = f"{fake.safe_color_name()} {rng.choice(nouns)}"
        products.append(Product(f"P{index:06d}", name, category, _price(rng, median)))
    return products


def _search_fragment(query: str) -> str:
    url = f"{SHOP_URL}/search?q={quote_plus(query)}"
    return f'"search_query":{_text(query)},"page_url":{_text(url)},'


def build_catalog(rng: random.Random, fake: Faker, count: int) -> Catalog:
    """Products spread over ``CATEGORIES`` with precomputed fragments and a popularity table."""
    products = _products(rng, fake, count)
    view, cart = [], []
    purchase: dict[int, list[str]] = {quantity: [] for quantity in PURCHASE_QUANTITIES}
    checkout = _text(f"{SHOP_URL}/checkout")
    for product in products:
        about = f'"product_id":"{product.product_id}","category":"{product.category}"'
        page = _text(f"{SHOP_URL}/products/{product.product_id}")
        view.append(f'{about},"page_url":{page},')
        cart.append(f'{about},"price":{product.price!r},"page_url":{page},')
        for quantity in PURCHASE_QUANTITIES:
            purchase[quantity].append(
                f'{about},"price":{product.price!r},"quantity":{quantity},"page_url":{checkout},'
            )
    queries = sorted(
        {modifier + product.name for product in products for modifier in SEARCH_MODIFIERS[:2]}
        | {noun for nouns, _ in CATEGORIES.values() for noun in nouns}
    )
    weights = [1 / (rank + 1) ** 0.8 for rank in range(count)]
    ranks = list(range(count))
    rng.shuffle(ranks)
    popular = rng.choices(ranks, weights=weights, k=TABLE_SIZE)
    return Catalog(
        products=tuple(products),
        view=tuple(view),
        cart=tuple(cart),
        purchase={quantity: tuple(texts) for quantity, texts in purchase.items()},
        searches=tuple(_search_fragment(query) for query in queries),
        popular=tuple(popular),
    )


def _user_agents_by_device(fake: Faker, least: int = 10) -> dict[str, list[str]]:
    """Faker user agents as JSON literals, sorted into desktop, mobile and tablet by platform;
    at least ``least`` of each (tablets are the rarest, about 1 in 25)."""
    pools: dict[str, list[str]] = {device: [] for device in DEVICE_WEIGHTS}
    made = 0
    while made < 500 or min(map(len, pools.values())) < least:
        made += 1
        agent = fake.user_agent()
        if "iPad" in agent:
            device = "tablet"
        elif any(token in agent for token in ("Android", "iPhone", "Mobile")):
            device = "mobile"
        else:
            device = "desktop"
        pools[device].append(_text(agent))
    return pools


def _countries(rng: random.Random, fake: Faker, count: int) -> list[str]:
    """Country codes: the big markets by weight, the rest from Faker."""
    codes = [*COUNTRY_WEIGHTS, ""]
    weights = [*COUNTRY_WEIGHTS.values(), OTHER_COUNTRIES_WEIGHT]
    others = [fake.country_code() for _ in range(256)]
    return [code or rng.choice(others) for code in rng.choices(codes, weights=weights, k=count)]


def _user_tail(device: str, agent_text: str, ip_address: str, country: str) -> str:
    """JSON text from ``"device"`` to the end of the line; ``agent_text`` is already a literal."""
    return (
        f'"device":"{device}","user_agent":{agent_text},'
        f'"ip_address":"{ip_address}","country":"{country}"}}\n'
    )


def shopper_profiles(rng: random.Random, fake: Faker, count: int = 8192) -> tuple[str, ...]:
    """Profiles of shoppers: a device by weight, a Faker user agent for it, IP and country."""
    agents = _user_agents_by_device(fake)
    addresses = [fake.ipv4_public() for _ in range(1024)]
    devices = rng.choices(list(DEVICE_WEIGHTS), weights=list(DEVICE_WEIGHTS.values()), k=count)
    return tuple(
        _user_tail(device, rng.choice(agents[device]), address, country)
        for device, address, country in zip(
            devices, rng.choices(addresses, k=count), _countries(rng, fake, count), strict=True
        )
    )


def bot_profiles(rng: random.Random, fake: Faker, count: int) -> tuple[str, ...]:
    """Profiles of scrapers: tool or headless-browser user agents, desktop, one IP each."""
    return tuple(
        _user_tail("desktop", _text(rng.choice(BOT_USER_AGENTS)), fake.ipv4_public(), country)
        for country in _countries(rng, fake, count)
    )


def build_world(seed: int, users: int, products: int, bots: int) -> World:
    """The whole shop for one run; the same seed and sizes give the same world."""
    rng = random.Random(f"world-{seed}")
    fake = Faker("en_US")
    fake.seed_instance(seed)
    id_offset = rng.randrange(_ID_SPACE)
    # Repeated by weight, so a uniform index picks a referrer with its weight.
    referrer_parts = tuple(
        f'"referrer":{_text(referrer)},'
        for referrer, weight in zip(REFERRERS, REFERRER_WEIGHTS, strict=True)
        for _ in range(weight)
    )
    return World(
        catalog=build_catalog(rng, fake, products),
        users=UserPool(0, users, id_offset, shopper_profiles(rng, fake)),
        bots=UserPool(users, bots, id_offset, bot_profiles(rng, fake, bots)),
        referrer_parts=referrer_parts,
    )
