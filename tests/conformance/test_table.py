"""Table conformance: DynamoDB semantics, written against the block API only.

Every engine runs this suite: ``engine_url`` is parametrized by engine, and the one test with
several processes hands the same URL to each of them. Nothing here knows how an engine stores
items; an engine is done when this passes.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from archlab.blocks.errors import (
    ConditionalCheckFailed,
    InvalidEngineUrl,
    TableError,
    TableInUse,
    TableNotFound,
    TableValidation,
)
from archlab.blocks.table import (
    Condition,
    SortCondition,
    Table,
    all_of,
    any_of,
    attribute_exists,
    attribute_not_exists,
    begins_with,
    equals,
    greater_or_equal,
    greater_than,
    less_or_equal,
    less_than,
    not_equals,
)
from archlab.engines.tables import TableEngine, connect_tables

ENGINES = ["sqlite"]


@pytest.fixture(params=ENGINES)
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    urls = {"sqlite": f"sqlite:///{tmp_path}/tables.db"}
    return urls[request.param]


@pytest.fixture
def engine(engine_url: str) -> Iterator[TableEngine]:
    engine = connect_tables(engine_url)
    yield engine
    engine.close()


@pytest.fixture
def images(engine: TableEngine) -> Table:
    """A table with a string partition key and a number sort key."""
    return Table.create(
        engine, "images", partition_key="owner", sort_key="taken", sort_key_type="N"
    )


@pytest.fixture
def photos(engine: TableEngine) -> Table:
    """A table with a partition key only."""
    return Table.create(engine, "photos", partition_key="id")


def sorted_by(engine: TableEngine, key_type: str, values: list[Any], partition: str) -> list[Any]:
    """The sort-key values of a partition holding ``values``, as a query returns them."""
    table = Table.create(
        engine, f"order-{key_type}", partition_key="p", sort_key="s", sort_key_type=key_type
    )
    for value in random.Random(7).sample(values, len(values)):
        table.put({"p": partition, "s": value})
    forward = [item["s"] for item in table.query(partition).items]
    backward = [item["s"] for item in table.query(partition, forward=False).items]
    assert backward == forward[::-1]
    return forward


def pages(table: Table, limit: int, **query: Any) -> list[tuple[list[Any], dict[str, Any] | None]]:
    """Every page of a query (with ``query`` arguments) or, without them, of a scan."""
    result = []
    start = None
    while True:
        if query:
            page = table.query(**query, limit=limit, exclusive_start_key=start)
        else:
            page = table.scan(limit=limit, exclusive_start_key=start)
        result.append((page.items, page.last_evaluated_key))
        start = page.last_evaluated_key
        if start is None:
            return result


# --- tables -------------------------------------------------------------------------------------


def test_create_finds_a_table_with_the_same_key_schema(engine: TableEngine, images: Table) -> None:
    images.put({"owner": "ann", "taken": 1})
    again = Table.create(
        engine, "images", partition_key="owner", sort_key="taken", sort_key_type="N"
    )
    assert again.get({"owner": "ann", "taken": 1}) == {"owner": "ann", "taken": 1}


@pytest.mark.parametrize(
    "schema",
    [
        {"partition_key": "owner"},
        {"partition_key": "owner", "sort_key": "taken"},  # S instead of N
        {"partition_key": "id", "sort_key": "taken", "sort_key_type": "N"},
    ],
)
def test_create_with_another_key_schema_is_resource_in_use(
    engine: TableEngine, images: Table, schema: dict[str, Any]
) -> None:
    with pytest.raises(TableInUse) as raised:
        Table.create(engine, "images", **schema)
    assert raised.value.code == "ResourceInUseException"


@pytest.mark.parametrize("name", ["abc", "a" * 255, "My_Table-1.0"])
def test_table_names_dynamodb_accepts(engine: TableEngine, name: str) -> None:
    Table.create(engine, name, partition_key="id").put({"id": "x"})
    assert Table(engine, name).get({"id": "x"}) == {"id": "x"}


@pytest.mark.parametrize("name", ["ab", "a" * 256, "bad name", "naïve", "a/b", "", 123])
def test_bad_table_names(engine: TableEngine, name: Any) -> None:
    with pytest.raises(TableValidation) as raised:
        Table.create(engine, name, partition_key="id")
    assert raised.value.code == "ValidationException"
    with pytest.raises(TableValidation):
        Table(engine, name)


@pytest.mark.parametrize(
    "schema",
    [
        {"partition_key": ""},
        {"partition_key": "k" * 256},
        {"partition_key": "id", "partition_key_type": "BOOL"},
        {"partition_key": "id", "sort_key": "id"},
        {"partition_key": "id", "sort_key": "at", "sort_key_type": "s"},
    ],
)
def test_bad_key_schemas(engine: TableEngine, schema: dict[str, Any]) -> None:
    with pytest.raises(TableValidation):
        Table.create(engine, "images", **schema)


def test_an_unknown_table_is_resource_not_found(engine: TableEngine) -> None:
    table = Table(engine, "missing")
    operations = [
        lambda: table.get({"id": "x"}),
        lambda: table.put({"id": "x"}),
        lambda: table.update({"id": "x"}, set={"a": 1}),
        lambda: table.delete({"id": "x"}),
        lambda: table.query("x"),
        lambda: table.scan(),
        table.delete_table,
    ]
    for operation in operations:
        with pytest.raises(TableNotFound) as raised:
            operation()
        assert raised.value.code == "ResourceNotFoundException"


def test_delete_table_deletes_its_items(engine: TableEngine, photos: Table) -> None:
    photos.put({"id": "x"})
    photos.delete_table()
    with pytest.raises(TableNotFound):
        photos.get({"id": "x"})
    with pytest.raises(TableNotFound):
        Table(engine, "photos").scan()
    recreated = Table.create(engine, "photos", partition_key="id", partition_key_type="N")
    assert recreated.scan().items == []
    recreated.put({"id": 1})
    assert recreated.get({"id": 1}) == {"id": 1}


def test_table_errors_share_a_base(engine: TableEngine) -> None:
    for error in (TableNotFound, TableInUse, TableValidation, ConditionalCheckFailed):
        assert issubclass(error, TableError)


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///", "sqlite://host/t.db", "sqlite:///t.db?durability=sends", "t.db", 5],
)
def test_table_engine_urls(url: Any) -> None:
    with pytest.raises(InvalidEngineUrl):
        connect_tables(url)


def test_a_relative_sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = connect_tables("sqlite:///data/tables.db")
    Table.create(engine, "photos", partition_key="id").put({"id": "x"})
    engine.close()
    assert (tmp_path / "data" / "tables.db").exists()


# --- items --------------------------------------------------------------------------------------


def test_round_trip_of_every_value_type(photos: Table) -> None:
    item = {
        "id": "photo-1",
        "title": "Côte d'Azur 🌊",
        "empty": "",
        "width": 4032,
        "negative": -17,
        "huge": 12345678901234567890123456789012345678,  # 38 digits
        "ratio": 1.5,
        "exact": Decimal("3.14159265358979323846264338327950288"),
        "tiny": Decimal("1E-130"),
        "public": True,
        "hidden": False,
        "album": None,
        "thumbnail": bytes(range(256)),
        "no_bytes": b"",
        "tags": ["sea", 7, None, [True, b"\x00"]],
        "exif": {"camera": {"make": "X", "iso": 100}, "gps": [Decimal("43.7"), 7]},
        "nothing_inside": {},
        "no_elements": [],
    }
    photos.put(item)
    back = photos.get({"id": "photo-1"})
    assert back == item
    assert back is not None
    for name in ("public", "hidden"):
        assert type(back[name]) is bool
    assert type(back["width"]) is int
    assert type(back["thumbnail"]) is bytes
    assert type(back["exif"]["camera"]["iso"]) is int
    assert back["tags"][3][0] is True


@pytest.mark.parametrize(
    ("stored", "returned"),
    [
        (0.1, Decimal("0.1")),  # the float's shortest repr, not its binary expansion
        (2.0, 2),
        (1e16, 10**16),
        (-0.0, 0),
        (Decimal("2.50"), Decimal("2.5")),
        (Decimal("1E+3"), 1000),
        (Decimal("-0.000"), 0),
        (Decimal("1.5E-7"), Decimal("0.00000015")),
        (10**40, 10**40),  # one significant digit
    ],
)
def test_numbers_come_back_canonical(photos: Table, stored: Any, returned: Any) -> None:
    photos.put({"id": "n", "value": stored})
    back = photos.get({"id": "n"})
    assert back is not None
    assert back["value"] == returned
    assert type(back["value"]) is type(returned)
    if isinstance(stored, float):
        assert float(back["value"]) == stored


def test_equal_numbers_are_one_key(images: Table) -> None:
    images.put({"owner": "ann", "taken": 1, "v": "first"})
    images.put({"owner": "ann", "taken": Decimal("1.00"), "v": "second"})
    assert images.get({"owner": "ann", "taken": 1.0}) == {"owner": "ann", "taken": 1, "v": "second"}
    assert len(images.query("ann").items) == 1


def test_put_replaces_the_whole_item_and_can_return_the_old_one(photos: Table) -> None:
    assert photos.put({"id": "x", "a": 1, "b": 2}, return_old=True) is None
    old = photos.put({"id": "x", "c": 3}, return_old=True)
    assert old == {"id": "x", "a": 1, "b": 2}
    assert photos.put({"id": "x", "d": 4}) is None
    assert photos.get({"id": "x"}) == {"id": "x", "d": 4}


def test_get_of_an_absent_item_is_none(images: Table) -> None:
    assert images.get({"owner": "nobody", "taken": 0}) is None


def test_update_creates_the_item_when_absent(images: Table) -> None:
    key = {"owner": "ann", "taken": 5}
    assert images.update(key, set={"width": 800}) == {**key, "width": 800}
    assert images.get(key) == {**key, "width": 800}
    bare = {"owner": "bob", "taken": 6}
    assert images.update(bare) == bare
    assert images.get(bare) == bare


def test_update_sets_and_removes_and_returns_the_new_item(images: Table) -> None:
    key = {"owner": "ann", "taken": 5}
    images.put({**key, "width": 800, "height": 600, "title": "sea"})
    new = images.update(key, set={"width": 1024, "tags": ["a"]}, remove=["height", "absent"])
    assert new == {**key, "width": 1024, "title": "sea", "tags": ["a"]}
    assert images.get(key) == new


@pytest.mark.parametrize(
    "change",
    [
        {"set": {"taken": 6}},
        {"set": {"owner": "bob"}},
        {"remove": ["taken"]},
        {"set": {"a": 1}, "remove": ["a"]},
        {"remove": ["a", "a"]},
        {"remove": "a"},
        {"set": {"": 1}},
        {"set": ["a"]},
    ],
)
def test_bad_updates(images: Table, change: dict[str, Any]) -> None:
    key = {"owner": "ann", "taken": 5}
    images.put({**key, "a": 0})
    with pytest.raises(TableValidation):
        images.update(key, **change)
    assert images.get(key) == {**key, "a": 0}


def test_delete_removes_the_item_and_can_return_it(photos: Table) -> None:
    photos.put({"id": "x", "a": 1})
    assert photos.delete({"id": "x"}, return_old=True) == {"id": "x", "a": 1}
    assert photos.get({"id": "x"}) is None
    assert photos.delete({"id": "x"}, return_old=True) is None  # an absent item: no error
    photos.put({"id": "y"})
    assert photos.delete({"id": "y"}) is None
    assert photos.get({"id": "y"}) is None


# --- conditions ---------------------------------------------------------------------------------

STORED = {
    "id": "p",
    "n": 5,
    "s": "abc",
    "b": b"\x01\x02",
    "flag": True,
    "nothing": None,
    "tags": ["a", "b"],
    "meta": {"w": 1},
}
CONDITIONS: list[tuple[Condition, bool]] = [
    (attribute_exists("n"), True),
    (attribute_exists("nothing"), True),  # NULL is a value: the attribute exists
    (attribute_exists("zz"), False),
    (attribute_not_exists("zz"), True),
    (attribute_not_exists("n"), False),
    (equals("n", 5), True),
    (equals("n", 5.0), True),
    (equals("n", Decimal("5.00")), True),
    (equals("n", "5"), False),  # another type
    (equals("n", 6), False),
    (equals("flag", True), True),
    (equals("flag", 1), False),  # a boolean is not a number
    (equals("nothing", None), True),
    (equals("tags", ["a", "b"]), True),
    (equals("tags", ["b", "a"]), False),
    (equals("meta", {"w": 1.0}), True),
    (equals("meta", {"w": True}), False),
    (equals("zz", None), False),  # an absent attribute equals nothing
    (not_equals("n", 6), True),
    (not_equals("n", 5), False),
    (not_equals("n", "5"), True),
    (not_equals("zz", 5), True),  # ...so it is unequal to everything
    (less_than("n", 6), True),
    (less_than("n", 5), False),
    (less_than("n", "6"), False),  # values of different types are not ordered
    (less_or_equal("n", 5), True),
    (less_or_equal("n", 4.5), False),
    (greater_than("n", Decimal("4.999")), True),
    (greater_than("zz", 0), False),
    (greater_or_equal("n", 6), False),
    (greater_or_equal("n", 5), True),
    (greater_than("s", "abb"), True),
    (less_than("s", "abd"), True),
    (less_than("s", "ab"), False),
    (less_than("s", "é"), True),
    (less_than("b", b"\x01\x03"), True),
    (greater_than("b", b"\x01"), True),
    (greater_than("b", b"\xff"), False),  # bytes are unsigned
    (begins_with("s", "ab"), True),
    (begins_with("s", "abc"), True),
    (begins_with("s", "b"), False),
    (begins_with("b", b"\x01"), True),
    (begins_with("b", "\x01"), False),  # a string prefix of a binary value
    (begins_with("zz", "a"), False),
    (all_of(equals("n", 5), begins_with("s", "a")), True),
    (all_of(equals("n", 5), begins_with("s", "b")), False),
    (any_of(equals("n", 6), attribute_exists("s")), True),
    (any_of(equals("n", 6), attribute_exists("zz")), False),
    (any_of(all_of(equals("n", 6), equals("s", "abc")), not_equals("flag", False)), True),
]


@pytest.mark.parametrize(("condition", "holds"), CONDITIONS, ids=[repr(c) for c, _ in CONDITIONS])
def test_conditional_put(photos: Table, condition: Condition, holds: bool) -> None:
    photos.put(STORED)
    replacement = {"id": "p", "replaced": True}
    if holds:
        assert photos.put(replacement, condition=condition, return_old=True) == STORED
        assert photos.get({"id": "p"}) == replacement
    else:
        with pytest.raises(ConditionalCheckFailed) as raised:
            photos.put(replacement, condition=condition)
        assert raised.value.code == "ConditionalCheckFailedException"
        assert photos.get({"id": "p"}) == STORED


def test_conditional_update(photos: Table) -> None:
    photos.put({"id": "p", "version": 1, "title": "old"})
    with pytest.raises(ConditionalCheckFailed):
        photos.update(
            {"id": "p"}, set={"title": "new", "version": 2}, condition=equals("version", 0)
        )
    assert photos.get({"id": "p"}) == {"id": "p", "version": 1, "title": "old"}
    new = photos.update(
        {"id": "p"},
        set={"title": "new", "version": 2},
        remove=["x"],
        condition=equals("version", 1),
    )
    assert new == {"id": "p", "version": 2, "title": "new"}
    assert photos.get({"id": "p"}) == new


def test_conditional_delete(photos: Table) -> None:
    photos.put({"id": "p", "state": "live"})
    with pytest.raises(ConditionalCheckFailed):
        photos.delete({"id": "p"}, condition=equals("state", "archived"))
    assert photos.get({"id": "p"}) == {"id": "p", "state": "live"}
    photos.delete({"id": "p"}, condition=equals("state", "live"))
    assert photos.get({"id": "p"}) is None


def test_conditions_on_an_absent_item(photos: Table) -> None:
    with pytest.raises(ConditionalCheckFailed):
        photos.update({"id": "new"}, set={"a": 1}, condition=attribute_exists("id"))
    with pytest.raises(ConditionalCheckFailed):
        photos.delete({"id": "new"}, condition=equals("a", 1))
    assert photos.get({"id": "new"}) is None
    photos.put({"id": "new", "a": 1}, condition=not_equals("a", 1))
    with pytest.raises(ConditionalCheckFailed):
        photos.put({"id": "new", "a": 2}, condition=attribute_not_exists("id"))
    assert photos.get({"id": "new"}) == {"id": "new", "a": 1}


@pytest.mark.parametrize(
    "build",
    [
        lambda: less_than("n", True),
        lambda: greater_than("n", None),
        lambda: less_or_equal("n", [1]),
        lambda: greater_or_equal("n", {"a": 1}),
        lambda: begins_with("s", 5),
        lambda: equals("", 1),
        lambda: equals("n", float("nan")),
        lambda: all_of(),
        lambda: any_of(equals("n", 1), "n = 1"),
    ],
)
def test_bad_conditions(build: Any) -> None:
    with pytest.raises(TableValidation):
        build()


def test_a_condition_must_be_built_with_the_api(photos: Table) -> None:
    with pytest.raises(TableValidation):
        photos.put({"id": "p"}, condition="attribute_not_exists(id)")  # type: ignore[arg-type]


# --- queries: order and key conditions ------------------------------------------------------


def test_numbers_sort_numerically(engine: TableEngine) -> None:
    ordered = [
        Decimal("-9.9999999999999999999999999999999999999E+125"),
        -1000,
        -10,
        Decimal("-9.99"),
        Decimal("-2.5"),
        Decimal("-2.25"),
        -2,
        Decimal("-0.001"),
        Decimal("-1E-130"),
        0,
        Decimal("1E-130"),
        Decimal("0.001"),
        Decimal("0.5"),
        1,
        Decimal("1.5"),
        2,
        Decimal("9.99"),
        10,
        Decimal("10.5"),
        100,
        10**38 - 1,
        Decimal("1E+125"),
    ]
    assert sorted_by(engine, "N", ordered, "many") == ordered
    brief = [10, 1, -2.5, 0, -10]
    assert sorted_by(engine, "N", brief, "brief") == [-10, Decimal("-2.5"), 0, 1, 10]


def test_strings_sort_by_utf8_bytes(engine: TableEngine) -> None:
    # By UTF-16 code units (Java's, JavaScript's order) "😀" would come before "ﬁ".
    ordered = ["Z", "a", "ab", "b", "é", "\ufb01", "\U0001f600"]
    assert sorted_by(engine, "S", ordered, "x") == ordered


def test_binary_sorts_by_unsigned_bytes(engine: TableEngine) -> None:
    ordered = [b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\xfe\xff", b"\xff"]
    assert sorted_by(engine, "B", ordered, "x") == ordered


def test_query_reads_one_partition(images: Table) -> None:
    for owner in ("ann", "anna", "bob"):
        for taken in (1, 2):
            images.put({"owner": owner, "taken": taken})
    result = images.query("ann")
    assert result.items == [{"owner": "ann", "taken": 1}, {"owner": "ann", "taken": 2}]
    assert result.last_evaluated_key is None
    assert images.query("nobody").items == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (SortCondition.eq(5), [5]),
        (SortCondition.eq(5.0), [5]),
        (SortCondition.eq(11), []),
        (SortCondition.lt(3), [1, 2]),
        (SortCondition.le(3), [1, 2, 3]),
        (SortCondition.gt(8), [9, 10]),
        (SortCondition.gt(Decimal("8.5")), [9, 10]),
        (SortCondition.ge(8), [8, 9, 10]),
        (SortCondition.between(3, 5), [3, 4, 5]),
        (SortCondition.between(5, 5), [5]),
        (SortCondition.between(-100, 2.5), [1, 2]),
    ],
)
def test_sort_conditions(images: Table, sort: SortCondition, expected: list[int]) -> None:
    for taken in range(1, 11):
        images.put({"owner": "ann", "taken": taken})
    assert [item["taken"] for item in images.query("ann", sort=sort).items] == expected
    backward = images.query("ann", sort=sort, forward=False).items
    assert [item["taken"] for item in backward] == expected[::-1]


def test_begins_with_on_string_sort_keys(engine: TableEngine) -> None:
    table = Table.create(engine, "paths", partition_key="p", sort_key="s")
    for value in ["a", "ab", "abc", "abd", "ac", "b", "é", "éa", "\U0001f600x"]:
        table.put({"p": "x", "s": value})

    def starting(prefix: str) -> list[str]:
        return [
            item["s"] for item in table.query("x", sort=SortCondition.begins_with(prefix)).items
        ]

    assert starting("ab") == ["ab", "abc", "abd"]
    assert starting("a") == ["a", "ab", "abc", "abd", "ac"]
    assert starting("é") == ["é", "éa"]
    assert starting("\U0001f600") == ["\U0001f600x"]
    assert starting("z") == []


def test_begins_with_on_binary_sort_keys(engine: TableEngine) -> None:
    table = Table.create(engine, "blobs", partition_key="p", sort_key="s", sort_key_type="B")
    values = [b"\xfe", b"\xfe\xff", b"\xff", b"\xff\x00", b"\xff\xff", b"\xff\xff\x01"]
    for value in values:
        table.put({"p": "x", "s": value})

    def starting(prefix: bytes) -> list[bytes]:
        return [
            item["s"] for item in table.query("x", sort=SortCondition.begins_with(prefix)).items
        ]

    assert starting(b"\xfe") == [b"\xfe", b"\xfe\xff"]
    assert starting(b"\xff") == [b"\xff", b"\xff\x00", b"\xff\xff", b"\xff\xff\x01"]
    assert starting(b"\xff\xff") == [b"\xff\xff", b"\xff\xff\x01"]


@pytest.mark.parametrize(
    "sort",
    [
        SortCondition.begins_with("1"),  # not on a number sort key
        SortCondition.between(5, 1),
        SortCondition.eq("5"),
        SortCondition.lt(True),
        SortCondition.ge(None),
    ],
)
def test_bad_sort_conditions(images: Table, sort: SortCondition) -> None:
    with pytest.raises(TableValidation):
        images.query("ann", sort=sort)


def test_sort_conditions_need_a_sort_key_and_no_empty_prefix(engine: TableEngine) -> None:
    with pytest.raises(TableValidation):
        Table.create(engine, "photos", partition_key="id").query("x", sort=SortCondition.eq(1))
    paths = Table.create(engine, "paths", partition_key="p", sort_key="s")
    with pytest.raises(TableValidation):
        paths.query("x", sort=SortCondition.begins_with(""))


def test_query_on_a_table_without_sort_key(photos: Table) -> None:
    photos.put({"id": "x", "a": 1})
    assert photos.query("x").items == [{"id": "x", "a": 1}]
    page = photos.query("x", limit=1)
    assert page.last_evaluated_key == {"id": "x"}
    assert photos.query("x", exclusive_start_key=page.last_evaluated_key).items == []


@pytest.mark.parametrize("partition", [1, b"ann", "", None])
def test_the_partition_value_has_the_key_type(images: Table, partition: Any) -> None:
    with pytest.raises(TableValidation, match="owner"):
        images.query(partition)


# --- pagination ---------------------------------------------------------------------------------


@pytest.mark.parametrize("forward", [True, False], ids=["ascending", "descending"])
def test_query_pagination_over_250_items(images: Table, forward: bool) -> None:
    for taken in range(250):
        images.put({"owner": "ann", "taken": taken, "size": taken * 10})
    images.put({"owner": "bob", "taken": 0})
    result = pages(images, 100, partition_value="ann", forward=forward)
    expected = list(range(250)) if forward else list(range(249, -1, -1))
    assert [len(items) for items, _ in result] == [100, 100, 50]
    assert [item["taken"] for items, _ in result for item in items] == expected
    keys = [key for _, key in result]
    assert keys == [
        {"owner": "ann", "taken": expected[99]},
        {"owner": "ann", "taken": expected[199]},
        None,
    ]


def test_a_page_of_exactly_the_remaining_items(images: Table) -> None:
    """A page cut by the limit carries a LastEvaluatedKey even when nothing follows (as
    DynamoDB may); the next page is then empty and the last."""
    for taken in range(200):
        images.put({"owner": "ann", "taken": taken})
    result = pages(images, 100, partition_value="ann")
    assert [item["taken"] for items, _ in result for item in items] == list(range(200))
    assert [len(items) for items, _ in result][:2] == [100, 100]
    assert result[1][1] in (None, {"owner": "ann", "taken": 199})
    if len(result) == 3:
        assert result[2] == ([], None)


def test_scan_pagination_over_250_items(images: Table) -> None:
    everything = {(f"owner-{i % 25:02d}", i) for i in range(250)}
    for owner, taken in everything:
        images.put({"owner": owner, "taken": taken})
    result = pages(images, 100)
    assert [len(items) for items, _ in result] == [100, 100, 50]
    seen = [(item["owner"], item["taken"]) for items, _ in result for item in items]
    assert len(seen) == 250
    assert set(seen) == everything
    for items, key in result[:2]:
        assert key == {"owner": items[-1]["owner"], "taken": items[-1]["taken"]}
    assert result[2][1] is None
    assert sorted(images.scan().items, key=lambda i: i["taken"]) == sorted(
        [item for items, _ in result for item in items], key=lambda i: i["taken"]
    )


@pytest.mark.parametrize("how", ["query", "scan"])
def test_a_page_ends_at_one_megabyte(images: Table, how: str) -> None:
    for taken in range(5):
        images.put({"owner": "ann", "taken": taken, "pixels": bytes(300 * 1024)})
    first = images.query("ann") if how == "query" else images.scan()
    assert 1 <= len(first.items) < 5
    assert first.last_evaluated_key is not None
    arguments = {"partition_value": "ann"} if how == "query" else {}
    everything = [item["taken"] for items, _ in pages(images, 10, **arguments) for item in items]
    assert everything == list(range(5))


def test_start_keys_are_checked(images: Table) -> None:
    images.put({"owner": "ann", "taken": 1})
    for start in ({"owner": "ann"}, {"owner": "ann", "taken": "1"}, {"taken": 1}, "ann"):
        with pytest.raises(TableValidation):
            images.query("ann", exclusive_start_key=start)  # type: ignore[arg-type]
        with pytest.raises(TableValidation):
            images.scan(exclusive_start_key=start)  # type: ignore[arg-type]
    with pytest.raises(TableValidation, match="outside query boundaries"):
        images.query("ann", exclusive_start_key={"owner": "bob", "taken": 1})


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, "10"])
def test_limits_are_positive_integers(images: Table, limit: Any) -> None:
    with pytest.raises(TableValidation, match="Limit"):
        images.query("ann", limit=limit)
    with pytest.raises(TableValidation, match="Limit"):
        images.scan(limit=limit)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "attribute"),
    [
        ({"owner": 1, "taken": 1}, "owner"),
        ({"owner": b"ann", "taken": 1}, "owner"),
        ({"owner": "ann", "taken": "1"}, "taken"),
        ({"owner": "ann", "taken": True}, "taken"),
        ({"owner": "ann", "taken": None}, "taken"),
        ({"owner": "ann"}, "taken"),
        ({"taken": 1}, "owner"),
        ({"owner": "", "taken": 1}, "owner"),
        ({"owner": "x" * 2049, "taken": 1}, "owner"),
    ],
)
def test_a_bad_key_in_an_item_names_the_attribute(
    images: Table, item: dict[str, Any], attribute: str
) -> None:
    with pytest.raises(TableValidation, match=attribute) as raised:
        images.put(item)
    assert raised.value.code == "ValidationException"
    assert images.scan().items == []


@pytest.mark.parametrize(
    "key",
    [
        {"owner": "ann"},
        {"owner": "ann", "taken": 1, "extra": 1},
        {"owner": "ann", "taken": "1"},
        {"owner": 1, "taken": 1},
        "ann",
    ],
)
def test_a_bad_key_argument(images: Table, key: Any) -> None:
    for operation in (images.get, images.delete, images.update):
        with pytest.raises(TableValidation):
            operation(key)


def test_binary_and_long_keys(engine: TableEngine) -> None:
    table = Table.create(engine, "blobs", partition_key="p", partition_key_type="B", sort_key="s")
    table.put({"p": b"\x00" * 2048, "s": "x" * 1024})
    assert table.get({"p": b"\x00" * 2048, "s": "x" * 1024}) is not None
    for item in ({"p": b"", "s": "x"}, {"p": b"\x00", "s": "x" * 1025}, {"p": "p", "s": "x"}):
        with pytest.raises(TableValidation):
            table.put(item)


def test_the_item_size_limit_is_400_kb(photos: Table) -> None:
    # DynamoDB's size: names and values in UTF-8 bytes: "id" + "k" + "data" + the data.
    photos.put({"id": "k", "data": "x" * (400 * 1024 - 7)})
    with pytest.raises(
        TableValidation, match="Item size has exceeded the maximum allowed size"
    ) as raised:
        photos.put({"id": "k", "data": "y" * (400 * 1024 - 6)})
    assert raised.value.code == "ValidationException"
    assert photos.get({"id": "k"}) == {"id": "k", "data": "x" * (400 * 1024 - 7)}


def test_an_update_may_not_grow_an_item_past_400_kb(photos: Table) -> None:
    photos.put({"id": "k", "a": b"\x00" * 300_000})
    with pytest.raises(TableValidation, match="exceeded the maximum allowed size"):
        photos.update({"id": "k"}, set={"b": b"\x00" * 200_000})
    assert photos.get({"id": "k"}) == {"id": "k", "a": b"\x00" * 300_000}


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        {1, 2},
        (1, 2),
        object(),
        bytearray(b"x"),
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        Decimal("-Infinity"),
        10**38 + 1,  # 39 significant digits
        Decimal("1E+126"),
        1e200,
        Decimal("1E-131"),
        "\ud800",  # a lone surrogate: not Unicode text
        {"": 1},
        {1: "a"},
        nested(40),
    ],
    ids=lambda value: type(value).__name__ if type(value) is object else repr(value),
)
def test_values_dynamodb_cannot_store(photos: Table, value: Any) -> None:
    with pytest.raises(TableValidation):
        photos.put({"id": "x", "value": value})
    with pytest.raises(TableValidation):
        photos.update({"id": "x"}, set={"value": value})
    assert photos.get({"id": "x"}) is None


def test_nesting_within_the_limit(photos: Table) -> None:
    photos.put({"id": "x", "deep": nested(20)})
    assert photos.get({"id": "x"}) == {"id": "x", "deep": nested(20)}


@pytest.mark.parametrize("item", [{"": 1, "id": "x"}, {"id": "x", 5: 1}, ["id", "x"], None])
def test_items_are_dicts_with_named_attributes(photos: Table, item: Any) -> None:
    with pytest.raises(TableValidation):
        photos.put(item)


# --- processes ----------------------------------------------------------------------------------

INCREMENTER = """
import sys
from archlab.blocks.errors import ConditionalCheckFailed
from archlab.blocks.table import Table, equals
from archlab.engines.tables import connect_tables

table = Table(connect_tables(sys.argv[1]), "counters")
print("ready", flush=True)
sys.stdin.readline()  # all start together
done = conflicts = 0
while done < int(sys.argv[2]):
    seen = table.get({"id": "hits"})["n"]
    try:
        table.update({"id": "hits"}, set={"n": seen + 1}, condition=equals("n", seen))
    except ConditionalCheckFailed:
        conflicts += 1
        continue
    done += 1
print(conflicts)
"""


def test_optimistic_increments_across_processes(engine: TableEngine, engine_url: str) -> None:
    """Read, then write on condition that nothing changed since: four processes doing 200
    increments each, retrying on ConditionalCheckFailed, lose none."""
    counters = Table.create(engine, "counters", partition_key="id")
    counters.put({"id": "hits", "n": 0})
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(INCREMENTER), engine_url, "200"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n"
    for worker in workers:  # all at once: none has begun before the last is released
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.close()
    conflicts = [int(worker.stdout.read()) for worker in workers if worker.stdout]
    assert [worker.wait(timeout=300) for worker in workers] == [0, 0, 0, 0]
    assert counters.get({"id": "hits"}) == {"id": "hits", "n": 800}
    print(f"conflicts retried: {sum(conflicts)}")
