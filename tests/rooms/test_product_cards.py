"""Product cards of a list of pieces (a show page's carousel, the host's pins) are read
together: each card as the one-piece card would be, in two reads whatever their number."""

from __future__ import annotations

from sqlalchemy import event
from sqlmodel import Session

from sessions import live
from sessions.brand_texts import do_set_texts
from tests.factories import Factory


def test_cards_of_several_pieces_are_each_its_own_card_in_two_reads(
    session: Session, factory: Factory
) -> None:
    brand = factory.brand()
    scarf = factory.product(brand, name="Silk scarf", sizes=("S", "M"), stock=3)
    bag = factory.product(brand, name="Tote", stock=1)
    belt = factory.product(brand, name="Belt", sizes=("90", "100", "110"), stock=2)
    assert brand.id and scarf.id and belt.id
    do_set_texts(session, brand.id, "product", scarf.id, {("name", "fr"): "Carré de soie"})
    do_set_texts(session, brand.id, "product", belt.id, {("name", "zh_Hans"): "腰带"})
    pieces = [belt, scarf, bag]  # the show's order, not the ids'
    one_by_one = [live.product_card(session, p, brand) for p in pieces]

    statements: list[str] = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        together = live.product_cards(session, pieces, brand)
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    assert together == one_by_one
    assert [c["name"] for c in together] == ["Belt", "Silk scarf", "Tote"]
    assert together[1]["names"] == {"fr": "Carré de soie"} and together[2]["names"] == {}
    assert [len(c["variants"]) for c in together] == [3, 2, 1]
    assert [c["stock"] for c in together] == [6, 6, 1]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, statements
    assert live.product_cards(session, [], brand) == []
