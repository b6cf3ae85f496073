"""The shopper's thread with a brand: asking, messages both ways, who holds it.

One thread per shopper and brand, across every channel: the first question opens
it (or reopens it: the same thread, with its history), puts it in the routing
queue, and the one routing engine (``routing``) offers it to an associate, who
accepts it, transfers it to a colleague or a store, or closes it. A message is
stored, then published: to the shopper's sockets and to the associate who holds
the thread (or, while it waits, to the brand's staff). When nobody is there, or
everyone stays busy past the brand's wait, the automatic answer goes into the
thread marked as automatic, and the thread waits for the first associate back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sessions.access import (
    Actor,
    access_thread,
    access_thread_answer,
    access_thread_staff,
)
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from sessions.events import publish
from sessions.i18n import english, guest_name, language_or_default, pack, written_in
from sessions.models import (
    AssociateProfile,
    AssociateStore,
    Brand,
    Product,
    Shopper,
    Show,
    Store,
    Thread,
    ThreadMessage,
    ThreadMessageKind,
    ThreadSide,
    ThreadStatus,
    User,
)
from sessions.ratelimit import RateLimiter
from sessions.service import answers, routing

DEFAULT_ACCEPT_SECONDS = 30
MAX_BODY = 2000
HISTORY_LIMIT = 200
# Per shopper and thread: a person typing fast is fine, a script is not.
thread_limiter = RateLimiter(
    "thread", "20 per 30 seconds", N_("You are sending messages very fast; wait %(wait)s s.")
)


@dataclass(frozen=True)
class Asked:
    thread: Thread
    message: dict[str, Any]
    automatic: dict[str, Any] | None  # the automatic answer, when nobody could take it
    back_at: datetime | None  # when the next associate starts, when nobody is online


# --- reading ---------------------------------------------------------------------------


def thread_or_404(db: Session, thread_id: int) -> Thread:
    thread = db.get(Thread, thread_id)
    if thread is None:
        raise NotFound(N_("No thread with id %(id)s."), params={"id": thread_id})
    return thread


def thread_of(db: Session, brand_id: int, shopper_id: int) -> Thread | None:
    return db.exec(
        select(Thread).where(Thread.brand_id == brand_id, Thread.shopper_id == shopper_id)
    ).first()


def message_out(message: ThreadMessage, lang: str | None = None) -> dict[str, Any]:
    """One message as a reader gets it; a system note in ``lang``, the reader's language
    (None: its English text, as stored)."""
    body = written_in(message.note, lang) if message.note and lang else message.body
    return {
        "id": message.id,
        "thread_id": message.thread_id,
        "kind": message.kind.value,
        "side": message.side.value,
        "author": message.author_name,
        "body": body,
        "product_id": message.product_id,
        "attachment_url": message.attachment_url,
        "show_id": message.show_id,
        "context": message.context,
        "client_id": message.client_id,
        "colour": message.colour_report,  # a corrected snapshot's figures, else None
        "at": message.created_at.isoformat(),
    }


def history(
    db: Session, thread: Thread, after_id: int = 0, lang: str | None = None
) -> list[dict[str, Any]]:
    """The thread's messages after `after_id`, oldest first (a reconnect asks for what it
    missed), its notes in the reader's language ``lang``."""
    rows = db.exec(
        select(ThreadMessage)
        .where(ThreadMessage.thread_id == thread.id, col(ThreadMessage.id) > after_id)
        .order_by(col(ThreadMessage.id))
        .limit(HISTORY_LIMIT)
    ).all()
    return [message_out(m, lang) for m in rows]


def associate_card(db: Session, associate_id: int | None) -> dict[str, Any] | None:
    """Who answers, as the shopper sees them: name, photo, store, languages."""
    profile = db.get(AssociateProfile, associate_id) if associate_id else None
    if profile is None:
        return None
    store = db.exec(
        select(Store)
        .join_from(Store, AssociateStore, col(AssociateStore.store_id) == Store.id)
        .where(AssociateStore.associate_id == profile.id)
    ).first()
    return {
        "id": profile.id,
        "name": profile.display_name,
        "photo_path": profile.photo_path,
        "store": store.name if store else None,
        "languages": [c.strip() for c in profile.languages.split(",") if c.strip()],
    }


# What one conversation takes on average when we have no history to go on.
HANDLE_SECONDS = 300


def place_in_line(db: Session, thread: Thread) -> tuple[int, int] | None:
    """A waiting thread's place (1 = next) and a wait estimate from who is present and
    their free places; None unless it waits. Zero when someone has a free place now."""
    if thread.status is not ThreadStatus.WAITING:
        return None
    since = thread.waiting_since or thread.created_at
    ahead = db.exec(
        select(Thread.offered_to).where(
            Thread.brand_id == thread.brand_id,
            Thread.status == ThreadStatus.WAITING,
            or_(
                col(Thread.waiting_since) < since,
                (col(Thread.waiting_since) == since) & (col(Thread.id) < thread.id),
            ),
        )
    ).all()
    position = len(ahead) + 1
    if thread.offered_to is not None:
        return position, 0
    # Those ahead already offered have their place; the others need one before this one.
    needing = sum(1 for offered in ahead if offered is None) + 1
    people = routing.present_associates(db, thread.brand_id, utcnow())
    loads = routing.loads_of(db, [p.id or 0 for p in people])
    free = sum(max(0, p.max_parallel_chats - loads[p.id or 0]) for p in people)
    if free >= needing:
        return position, 0
    capacity = max(1, sum(p.max_parallel_chats for p in people))
    return position, (needing - free) * HANDLE_SECONDS // capacity


def thread_out(
    db: Session, thread: Thread, *, with_place: bool = True, lang: str | None = None
) -> dict[str, Any]:
    """A thread's state for either side (no messages: see `history`). `with_place`: its
    place in line and wait (a few queries: the inbox's long lists go without). ``lang``:
    the reader's language, for a nameless shopper and the last message's note."""
    shopper = db.get(Shopper, thread.shopper_id)
    last = db.exec(
        select(ThreadMessage)
        .where(ThreadMessage.thread_id == thread.id)
        .order_by(col(ThreadMessage.id).desc())
    ).first()
    place = place_in_line(db, thread) if with_place else None
    return {
        "id": thread.id,
        "brand_id": thread.brand_id,
        "shopper_id": thread.shopper_id,
        "shopper_name": (shopper.name if shopper and shopper.name else guest_name(lang)),
        "status": thread.status.value,
        "associate": associate_card(db, thread.associate_id),
        "offered_to": thread.offered_to,
        "language": thread.language,
        "store_id": thread.store_id,
        "waiting_since": thread.waiting_since.isoformat() if thread.waiting_since else None,
        "last_message": message_out(last, lang) if last else None,
        "shopper_read_id": thread.shopper_read_id,
        "staff_read_id": thread.staff_read_id,
        "position": place[0] if place else None,
        "estimated_wait_seconds": place[1] if place else None,
    }


def inbox(db: Session, actor: Actor, brand_id: int, tab: str) -> list[Thread]:
    """The console's tabs: waiting (everyone's), mine, colleagues' (held by others)."""
    query = select(Thread).where(Thread.brand_id == brand_id)
    if tab == "waiting":
        query = query.where(Thread.status == ThreadStatus.WAITING).order_by(
            col(Thread.waiting_since), col(Thread.id)
        )
    elif tab == "mine":
        query = query.where(
            Thread.status == ThreadStatus.ASSIGNED, Thread.associate_id == actor.associate_id
        ).order_by(col(Thread.last_message_at).desc())
    elif tab == "colleagues":
        query = query.where(Thread.status == ThreadStatus.ASSIGNED)
        if actor.associate_id is not None:
            query = query.where(col(Thread.associate_id) != actor.associate_id)
        query = query.order_by(col(Thread.last_message_at).desc())
    else:
        raise InvalidInput("The tab is waiting, mine or colleagues.", field="tab")
    return list(db.exec(query.limit(200)).all())


# --- publishing ----------------------------------------------------------------------------


def _staff_address(thread: Thread) -> str:
    """Whoever serves the thread: its associate, or the brand's staff while it waits."""
    if thread.status is ThreadStatus.ASSIGNED and thread.associate_id is not None:
        return f"associate:{thread.associate_id}"
    return f"brand:{thread.brand_id}"


def _publish_message(
    thread: Thread,
    message: ThreadMessage,
    out: dict[str, Any],
    readers: tuple[str, str] | None = None,
) -> None:
    """``readers``: the shopper's and the staff's languages, for a note (pushed written
    for each side: the shopper in theirs, staff in theirs)."""
    assert thread.id is not None
    shopper_out, staff_out = out, out
    if message.note and readers is not None:
        shopper_out, staff_out = (message_out(message, lang) for lang in readers)
    publish(
        "thread_message",
        None,
        f"shopper:{thread.shopper_id}",
        thread_id=thread.id,
        message=shopper_out,
    )
    publish("thread_message", None, _staff_address(thread), thread_id=thread.id, message=staff_out)


def shopper_language(db: Session, thread: Thread) -> str:
    """The language the shopper reads: the one they chose, else the thread's."""
    shopper = db.get(Shopper, thread.shopper_id)
    return language_or_default((shopper.language if shopper else None) or thread.language)


def staff_language(db: Session, thread: Thread) -> str:
    """The language of the staff a push reaches: the associate holding the thread (their
    console's language, users.language), else, to the brand's staff, the brand's."""
    if thread.status is ThreadStatus.ASSIGNED and thread.associate_id is not None:
        chosen = associate_language(db, thread.associate_id, fallback=None)
        if chosen is not None:
            return chosen
    brand = db.get(Brand, thread.brand_id)
    return language_or_default(brand.default_language if brand else None)


def associate_language(db: Session, associate_id: int, fallback: str | None = "en") -> str | None:
    """The language an associate chose for their console (users.language), else
    ``fallback``."""
    profile = db.get(AssociateProfile, associate_id)
    user = db.get(User, profile.user_id) if profile is not None else None
    if user is not None and user.language:
        return language_or_default(user.language)
    return fallback


def _written_for(db: Session, thread: Thread, out: dict[str, Any], lang: str) -> dict[str, Any]:
    """A thread's state (``thread_out`` in English) with its reader-facing words in
    ``lang``: a nameless shopper's "Guest", the last message when it is a note."""
    written = dict(out)
    shopper = db.get(Shopper, thread.shopper_id)
    if not (shopper and shopper.name):
        written["shopper_name"] = guest_name(lang)
    last = out.get("last_message")
    if last and last.get("kind") == ThreadMessageKind.SYSTEM.value:
        message = db.get(ThreadMessage, last["id"])
        if message is not None:
            written["last_message"] = message_out(message, lang)
    return written


def _publish_changed(db: Session, thread: Thread) -> None:
    """The thread's state moved (waiting, taken, transferred, closed): to the shopper and
    to the brand's consoles (their tabs move it)."""
    out = thread_out(db, thread)
    shopper_out = _written_for(db, thread, out, shopper_language(db, thread))
    publish("thread_changed", None, f"shopper:{thread.shopper_id}", thread=shopper_out)
    staff_out = _written_for(db, thread, out, staff_language(db, thread))
    publish("thread_changed", None, f"brand:{thread.brand_id}", thread=staff_out)
    if thread.status is not ThreadStatus.WAITING:
        _publish_line_moved(db, thread)


# Enough for any real line; a longer one hears its place on its own next change.
LINE_PUSH_LIMIT = 50


def _publish_line_moved(db: Session, left: Thread) -> None:
    """A thread left the line (taken, closed, left): each shopper still waiting behind it
    moved up, and is told their new place and wait (live means pushed: nobody polls)."""
    since = left.waiting_since or left.created_at
    behind = db.exec(
        select(Thread)
        .where(
            Thread.brand_id == left.brand_id,
            Thread.status == ThreadStatus.WAITING,
            col(Thread.id) != left.id,
            col(Thread.waiting_since) >= since,
        )
        .order_by(col(Thread.waiting_since), col(Thread.id))
        .limit(LINE_PUSH_LIMIT)
    ).all()
    for waiting in behind:
        publish(
            "thread_changed",
            None,
            f"shopper:{waiting.shopper_id}",
            thread=thread_out(db, waiting, lang=shopper_language(db, waiting)),
        )


# --- storing messages ---------------------------------------------------------------------


def _clean_body(body: object, *, required: bool) -> str:
    if body is None:
        body = ""
    if not isinstance(body, str):
        raise InvalidInput("The message must be text.", field="body")
    text = body.strip()
    if required and not text:
        raise InvalidInput("Write a message.", field="body")
    if len(text) > MAX_BODY:
        raise InvalidInput(
            N_("Keep a message under %(n)s characters."), params={"n": MAX_BODY}, field="body"
        )
    return text


def _check_client_id(client_id: object) -> str | None:
    if client_id is None or client_id == "":
        return None
    if not isinstance(client_id, str) or len(client_id) > 64:
        raise InvalidInput("client_id must be a short string.", field="client_id")
    return client_id


def _check_attachment(url: object) -> str | None:
    """A picture from this site (an upload or a snapshot path): no third-party URL that
    would tell another server who reads the thread."""
    if url is None or url == "":
        return None
    if not isinstance(url, str) or len(url) > 500:
        raise InvalidInput("attachment_url must be a short path.", field="attachment_url")
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        raise InvalidInput(
            "Attach a picture uploaded here (a path on this site).", field="attachment_url"
        )
    return url


def _brand_product(db: Session, thread: Thread, product_id: object) -> int | None:
    if product_id is None:
        return None
    if not isinstance(product_id, int) or isinstance(product_id, bool):
        raise InvalidInput("product_id must be a whole number.", field="product_id")
    product = db.get(Product, product_id)
    if product is None or product.brand_id != thread.brand_id or not product.is_active:
        raise NotFound(N_("No product with id %(id)s at this brand."), params={"id": product_id})
    return product_id


def _brand_show(db: Session, thread: Thread, show_id: object) -> tuple[int | None, str]:
    """The show the shopper asks from (one of the brand's), and the context line it gives
    the message: the associate sees which show the question comes from."""
    if show_id is None:
        return None, ""
    if not isinstance(show_id, int) or isinstance(show_id, bool):
        raise InvalidInput("show_id must be a whole number.", field="show_id")
    show = db.get(Show, show_id)
    if show is None or show.brand_id != thread.brand_id:
        raise NotFound(N_("No show with id %(id)s at this brand."), params={"id": show_id})
    return show_id, f"Asked during the show “{show.title}”"[:200]


def _previous(db: Session, thread: Thread, client_id: str | None) -> ThreadMessage | None:
    if client_id is None:
        return None
    return db.exec(
        select(ThreadMessage).where(
            ThreadMessage.thread_id == thread.id, ThreadMessage.client_id == client_id
        )
    ).first()


def _store(
    db: Session,
    thread: Thread,
    *,
    side: ThreadSide,
    kind: ThreadMessageKind,
    author: str,
    body: str,
    now: datetime,
    user_id: int | None = None,
    product_id: int | None = None,
    attachment_url: str | None = None,
    client_id: str | None = None,
    show_id: int | None = None,
    context: str = "",
    note: str = "",
    colour_report: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store one message and publish it (after the commit)."""
    assert thread.id is not None
    message = ThreadMessage(
        thread_id=thread.id,
        side=side,
        kind=kind,
        author_name=author[:120],
        body=body,
        user_id=user_id,
        product_id=product_id,
        attachment_url=attachment_url,
        client_id=client_id,
        show_id=show_id,
        context=context,
        colour_report=colour_report,
        note=note,
        created_at=now,
    )
    db.add(message)
    db.flush()  # the message's id, for its author's read marker: one commit for both
    assert message.id is not None
    thread.last_message_at = now
    if side is ThreadSide.STAFF:
        thread.staff_read_id = max(thread.staff_read_id, message.id)  # one has read one's own
    elif side is ThreadSide.SHOPPER:
        thread.shopper_read_id = max(thread.shopper_read_id, message.id)
    db.add(thread)
    # Read before the commit: on SQLite a read after it would open a transaction that
    # holds the write lock until the request ends.
    readers = (shopper_language(db, thread), staff_language(db, thread)) if note else None
    db.commit()
    out = message_out(message)
    _publish_message(thread, message, out, readers)
    return out


def do_post_system(
    db: Session,
    thread: Thread,
    msgid: str,
    params: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> dict:
    """A note in the thread: "Video started with %(name)s", "%(name)s joined", an N_()
    msgid and its parameters, stored as such and written in each reader's language."""
    return _store(
        db,
        thread,
        side=ThreadSide.SYSTEM,
        kind=ThreadMessageKind.SYSTEM,
        author="Vitrine",
        body=english(msgid, params or {}),
        note=pack(msgid, params),
        now=now or utcnow(),
    )


# --- the shopper asks ----------------------------------------------------------------------


def _open_thread(db: Session, brand_id: int, shopper_id: int, now: datetime) -> Thread:
    """The shopper's thread at the brand, made on first need (two taps at once: one row)."""
    thread = thread_of(db, brand_id, shopper_id)
    if thread is not None:
        return thread
    thread = Thread(
        brand_id=brand_id, shopper_id=shopper_id, status=ThreadStatus.CLOSED, created_at=now
    )
    db.add(thread)
    try:
        db.commit()
    except IntegrityError:  # the other tap made it first
        db.rollback()
        found = thread_of(db, brand_id, shopper_id)
        assert found is not None
        return found
    return thread


def _reopen(
    db: Session,
    thread: Thread,
    now: datetime,
    *,
    language: str | None = None,
    store_id: int | None = None,
) -> bool:
    """A closed thread waits again (conditional: two tabs reopen it once)."""
    values: dict[str, Any] = {
        "status": ThreadStatus.WAITING,
        "associate_id": None,
        "offered_to": None,
        "offered_at": None,
        "declined_by": "",
        "waiting_since": now,
        "auto_answered_at": None,
    }
    if language is not None:
        values["language"] = language
    if store_id is not None:
        values["store_id"] = store_id
    result = db.exec(
        update(Thread)
        .where(col(Thread.id) == thread.id, col(Thread.status) == ThreadStatus.CLOSED)
        .values(**values)
    )
    db.commit()
    db.refresh(thread)
    return bool(result.rowcount == 1)


MOVED_NOTE = N_("Passed to %(store)s: the piece is on their shelves.")


def _move_to_store(
    db: Session, thread: Thread, store_id: int, now: datetime
) -> tuple[Store, int | None] | None:
    """An open thread is asked for what only ``store_id`` has (a try-on): it leaves the
    store it waits at, or the associate holding it, for that store's associates. Kept as
    it is when it already waits there, or its holder works at that store (they have the
    piece at hand). Conditional on the state read: a concurrent take or move wins, and
    the request then stays where that one put it. Returns (store, who held or was
    offered it), or None when nothing moved."""
    holder = thread.associate_id
    if thread.status is ThreadStatus.WAITING and thread.store_id == store_id:
        return None
    if (
        holder is not None
        and db.exec(
            select(AssociateStore).where(
                AssociateStore.associate_id == holder, AssociateStore.store_id == store_id
            )
        ).first()
    ):
        return None
    store = db.get(Store, store_id)
    assert store is not None  # _check_store
    previous = holder if holder is not None else thread.offered_to
    result = db.exec(
        update(Thread)
        .where(
            col(Thread.id) == thread.id,
            col(Thread.status) == thread.status,
            col(Thread.associate_id).is_(None)
            if holder is None
            else col(Thread.associate_id) == holder,
        )
        .values(
            status=ThreadStatus.WAITING,
            associate_id=None,
            store_id=store_id,
            offered_to=None,
            offered_at=None,
            declined_by="",
            waiting_since=now,
            auto_answered_at=None,
        )
    )
    db.commit()
    db.refresh(thread)
    return (store, previous) if result.rowcount == 1 else None


def _check_store(db: Session, brand_id: int, store_id: int | None) -> None:
    if store_id is None:
        return
    store = db.get(Store, store_id)
    if store is None or store.brand_id != brand_id:
        raise NotFound(N_("No store with id %(id)s at this brand."), params={"id": store_id})


def do_ask(
    db: Session,
    actor: Actor,
    brand: Brand,
    *,
    body: object,
    product_id: int | None = None,
    show_id: int | None = None,
    language: str = "en",
    store_id: int | None = None,
    move_to_store: bool = False,
    client_id: object = None,
    now: datetime | None = None,
    accept_seconds: int = DEFAULT_ACCEPT_SECONDS,
) -> Asked:
    """The shopper asks: the thread opens (or is reused), the question is stored, the
    thread is routed; nobody there for it: the automatic answer at once. Asked from a
    show (`show_id`), the question says which. ``move_to_store`` (a try-on: only that
    store has the piece): a thread already open elsewhere moves to ``store_id``."""
    now = now or utcnow()
    assert brand.id is not None
    if actor.shopper_id is None:
        raise Forbidden("Only a shopper asks; staff answer from the console.", code="not_shopper")
    _clean_body(body, required=True)
    _check_store(db, brand.id, store_id)
    if show_id is not None:
        show = db.get(Show, show_id)
        if show is None or show.brand_id != brand.id:  # before the thread opens, not after
            raise NotFound(N_("No show with id %(id)s at this brand."), params={"id": show_id})
    thread = _open_thread(db, brand.id, actor.shopper_id, now)
    reopened = _reopen(db, thread, now, language=language, store_id=store_id)
    moved = None
    if not reopened and move_to_store and store_id is not None:
        moved = _move_to_store(db, thread, store_id, now)
    message = do_send_thread_message(
        db,
        actor,
        thread,
        body=body,
        product_id=product_id,
        show_id=show_id,
        client_id=client_id,
        now=now,
    )
    if reopened:
        _publish_changed(db, thread)
    if moved is not None:
        store, previous = moved
        params = {"store": store.name}
        do_post_system(db, thread, MOVED_NOTE, params, now=now)
        _publish_changed(db, thread)
        if previous is not None:
            assert thread.id is not None
            _withdraw(thread.id, previous)
    route_threads(db, brand.id, now=now, accept_seconds=accept_seconds)
    db.refresh(thread)
    automatic, back_at = None, None
    if thread.status is ThreadStatus.WAITING and not routing.anyone_for(db, _need(thread), now):
        back_at = routing.next_opening(db, brand.id, now)
        automatic = _answer_automatically(db, thread, message["body"], product_id, now)
    return Asked(thread=thread, message=message, automatic=automatic, back_at=back_at)


def do_send_thread_message(
    db: Session,
    actor: Actor,
    thread: Thread,
    *,
    body: object = None,
    product_id: object = None,
    attachment_url: object = None,
    client_id: object = None,
    show_id: object = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Either side posts text, a product card or a picture. Idempotent on client_id: a
    retry after a lost answer gets the stored message back, not a second one. The
    shopper's message may say which show it is asked from (`show_id`)."""
    now = now or utcnow()
    access_thread(actor, thread)
    is_shopper = actor.shopper_id is not None and actor.shopper_id == thread.shopper_id
    if not is_shopper:
        access_thread_answer(actor, thread)
    cid = _check_client_id(client_id)
    if is_shopper:
        # End the read first: the limiter may wait on Redis, or start its expiry timer
        # (a green thread: it yields), and on SQLite an open transaction holds the write
        # lock, so every other request of the node would queue behind this one.
        db.commit()
        thread_limiter.hit(f"{thread.id}:{actor.identity}")
    previous = _previous(db, thread, cid)
    if previous is not None:
        return message_out(previous)
    picture = _check_attachment(attachment_url)
    product = _brand_product(db, thread, product_id)
    show, context = _brand_show(db, thread, show_id if is_shopper else None)
    text = _clean_body(body, required=picture is None and product is None)
    if is_shopper and thread.status is ThreadStatus.CLOSED and _reopen(db, thread, now):
        _publish_changed(db, thread)
    kind = ThreadMessageKind.TEXT
    if picture is not None:
        kind = ThreadMessageKind.PHOTO
    elif product is not None and not is_shopper:
        kind = ThreadMessageKind.PRODUCT  # the shopper's product is the page they ask from
    return _store(
        db,
        thread,
        side=ThreadSide.SHOPPER if is_shopper else ThreadSide.STAFF,
        kind=kind,
        author=actor.name,
        body=text,
        now=now,
        user_id=actor.user_id,
        product_id=product,
        attachment_url=picture,
        client_id=cid,
        show_id=show,
        context=context,
    )


def do_mark_read(db: Session, actor: Actor, thread: Thread, message_id: int) -> int:
    """The reader's side has read up to `message_id` (markers only move forward)."""
    access_thread(actor, thread)
    is_shopper = actor.shopper_id is not None and actor.shopper_id == thread.shopper_id
    column = Thread.shopper_read_id if is_shopper else Thread.staff_read_id
    db.exec(
        update(Thread)
        .where(col(Thread.id) == thread.id, col(column) < message_id)
        .values({column: message_id})
    )
    db.commit()
    db.refresh(thread)
    read = thread.shopper_read_id if is_shopper else thread.staff_read_id
    side = "shopper" if is_shopper else "staff"
    assert thread.id is not None
    if is_shopper:
        publish(
            "thread_read",
            None,
            _staff_address(thread),
            thread_id=thread.id,
            side=side,
            message_id=read,
        )
    else:
        publish(
            "thread_read",
            None,
            f"shopper:{thread.shopper_id}",
            thread_id=thread.id,
            side=side,
            message_id=read,
        )
    return read


def do_typing(db: Session, actor: Actor, thread: Thread) -> None:
    """Someone is typing: told to the other side, never stored."""
    access_thread(actor, thread)
    assert thread.id is not None
    if actor.shopper_id is not None and actor.shopper_id == thread.shopper_id:
        publish(
            "thread_typing",
            None,
            _staff_address(thread),
            thread_id=thread.id,
            side="shopper",
            name=actor.name,
        )
    else:
        access_thread_answer(actor, thread)
        publish(
            "thread_typing",
            None,
            f"shopper:{thread.shopper_id}",
            thread_id=thread.id,
            side="staff",
            name=actor.name,
        )


# --- the associate's side -------------------------------------------------------------------


def _withdraw(thread_id: int, associate_id: int | None) -> None:
    if associate_id is not None:
        publish("thread_offer_withdrawn", None, f"associate:{associate_id}", thread_id=thread_id)


def do_accept_thread(
    db: Session, actor: Actor, thread: Thread, *, now: datetime | None = None
) -> Thread:
    """Take a waiting thread (offered to you, or straight from the waiting tab)."""
    now = now or utcnow()
    access_thread_staff(actor, thread)
    if actor.associate_id is None:
        raise Forbidden("Only an associate takes a conversation.", code="not_associate")
    offered_to = thread.offered_to
    result = db.exec(
        update(Thread)
        .where(col(Thread.id) == thread.id, col(Thread.status) == ThreadStatus.WAITING)
        .values(
            status=ThreadStatus.ASSIGNED,
            associate_id=actor.associate_id,
            offered_to=None,
            offered_at=None,
            waiting_since=None,
        )
    )
    db.commit()
    db.refresh(thread)
    if result.rowcount != 1:
        raise Conflict("A colleague has already taken this conversation.", code="taken")
    assert thread.id is not None
    if offered_to != actor.associate_id:
        _withdraw(thread.id, offered_to)
    profile = db.get(AssociateProfile, actor.associate_id)
    name = profile.display_name if profile else actor.name
    do_post_system(db, thread, N_("%(name)s joined"), {"name": name}, now=now)
    _publish_changed(db, thread)
    return thread


def do_decline_thread(
    db: Session, actor: Actor, thread: Thread, *, now: datetime | None = None
) -> None:
    """Let an offer pass: it goes to the next associate."""
    now = now or utcnow()
    access_thread_staff(actor, thread)
    if thread.offered_to is None or thread.offered_to != actor.associate_id:
        raise Conflict("This conversation is no longer offered to you.", code="offer_gone")
    _pass_on(db, thread)
    route_threads(db, thread.brand_id, now=now)


def do_transfer_thread(
    db: Session,
    actor: Actor,
    thread: Thread,
    *,
    to_associate_id: int | None = None,
    to_store_id: int | None = None,
    now: datetime | None = None,
) -> Thread:
    """Hand the thread to a colleague (present and free) or to a store (back to waiting,
    routed among that store's associates)."""
    now = now or utcnow()
    access_thread_answer(actor, thread)
    if (to_associate_id is None) == (to_store_id is None):
        raise InvalidInput("Transfer to a colleague or to a store.", field="associate_id")
    if thread.status is ThreadStatus.CLOSED:
        raise Conflict("This conversation is closed.")
    previous = thread.associate_id
    if to_associate_id is not None:
        colleague = db.get(AssociateProfile, to_associate_id)
        if colleague is None or colleague.brand_id != thread.brand_id:
            raise NotFound("Choose a colleague from this brand.")
        if colleague.id == thread.associate_id:
            raise InvalidInput("This conversation is already theirs.", field="associate_id")
        if not routing.can_take(db, colleague, now):
            raise Conflict(
                N_("%(name)s is away or has no free place right now."),
                params={"name": colleague.display_name},
            )
        thread.status, thread.associate_id = ThreadStatus.ASSIGNED, colleague.id
        note: tuple[str, dict[str, Any]] = (
            N_("Transferred to %(name)s"),
            {"name": colleague.display_name},
        )
    else:
        _check_store(db, thread.brand_id, to_store_id)
        store = db.get(Store, to_store_id)
        thread.status, thread.associate_id, thread.store_id = (
            ThreadStatus.WAITING,
            None,
            to_store_id,
        )
        thread.waiting_since, thread.declined_by = now, ""
        note = (
            (N_("Transferred to %(name)s"), {"name": store.name})
            if store
            else (N_("Transferred to another store"), {})
        )
    thread.offered_to, thread.offered_at = None, None
    db.add(thread)
    db.commit()
    do_post_system(db, thread, *note, now=now)
    _publish_changed(db, thread)
    if previous is not None and previous != thread.associate_id:
        assert thread.id is not None
        _withdraw(thread.id, previous)
    route_threads(db, thread.brand_id, now=now)
    return thread


def do_close_thread(
    db: Session, actor: Actor, thread: Thread, *, now: datetime | None = None
) -> Thread:
    """Close the conversation: the shopper leaves, or the associate holding it ends it."""
    now = now or utcnow()
    access_thread(actor, thread)
    is_shopper = actor.shopper_id is not None and actor.shopper_id == thread.shopper_id
    if not is_shopper:
        access_thread_answer(actor, thread)
    if thread.status is ThreadStatus.CLOSED:
        return thread
    offered_to = thread.offered_to
    thread.status, thread.offered_to, thread.offered_at = ThreadStatus.CLOSED, None, None
    thread.waiting_since = None
    db.add(thread)
    db.commit()
    assert thread.id is not None
    _withdraw(thread.id, offered_to)
    if is_shopper:
        do_post_system(db, thread, N_("The shopper closed the conversation"), now=now)
    else:
        do_post_system(
            db, thread, N_("%(name)s closed the conversation"), {"name": actor.name}, now=now
        )
    _publish_changed(db, thread)
    route_threads(db, thread.brand_id, now=now)  # a place is free for the next
    return thread


# --- routing: offers, timeouts, automatic answers ----------------------------------------------


def _need(thread: Thread) -> routing.Need:
    return routing.Need(
        brand_id=thread.brand_id,
        language=thread.language,
        store_id=thread.store_id,
        passed=routing.passed_ids(thread.declined_by),
    )


def _pass_on(db: Session, thread: Thread) -> bool:
    """The offer goes back, remembering who let it pass. Conditional on the offer."""
    offered_to = thread.offered_to
    passed = routing.passed_text(routing.passed_ids(thread.declined_by) | {offered_to or 0})
    result = db.exec(
        update(Thread)
        .where(
            col(Thread.id) == thread.id,
            col(Thread.status) == ThreadStatus.WAITING,
            col(Thread.offered_to) == offered_to,
        )
        .values(offered_to=None, offered_at=None, declined_by=passed)
    )
    db.commit()
    if result.rowcount == 1:
        assert thread.id is not None
        _withdraw(thread.id, offered_to)
    return bool(result.rowcount == 1)


def _offer(db: Session, thread: Thread, associate_id: int, now: datetime) -> bool:
    result = db.exec(
        update(Thread)
        .where(
            col(Thread.id) == thread.id,
            col(Thread.status) == ThreadStatus.WAITING,
            col(Thread.offered_to).is_(None),
        )
        .values(offered_to=associate_id, offered_at=now)
    )
    db.commit()
    if result.rowcount != 1:
        return False
    assert thread.id is not None
    shopper = db.get(Shopper, thread.shopper_id)
    last = db.exec(
        select(ThreadMessage)
        .where(ThreadMessage.thread_id == thread.id, ThreadMessage.side == ThreadSide.SHOPPER)
        .order_by(col(ThreadMessage.id).desc())
    ).first()
    publish(
        "thread_offer",
        None,
        f"associate:{associate_id}",
        thread_id=thread.id,
        shopper_name=(
            shopper.name
            if shopper and shopper.name
            else guest_name(associate_language(db, associate_id))
        ),
        preview=(last.body[:140] if last else ""),
    )
    return True


def route_threads(
    db: Session,
    brand_id: int,
    *,
    now: datetime | None = None,
    accept_seconds: int = DEFAULT_ACCEPT_SECONDS,
) -> int:
    """Offers nobody took in time pass on; waiting threads are offered, oldest first."""
    now = now or utcnow()
    deadline = now - timedelta(seconds=accept_seconds)
    stale = db.exec(
        select(Thread).where(
            Thread.brand_id == brand_id,
            Thread.status == ThreadStatus.WAITING,
            col(Thread.offered_at) < deadline,
        )
    ).all()
    for thread in stale:
        _pass_on(db, thread)
    waiting = db.exec(
        select(Thread)
        .where(
            Thread.brand_id == brand_id,
            Thread.status == ThreadStatus.WAITING,
            col(Thread.offered_to).is_(None),
        )
        .order_by(col(Thread.waiting_since), col(Thread.id))
    ).all()
    made = 0
    for thread in waiting:
        chosen = routing.choose(db, _need(thread), now)
        if chosen is not None and chosen.id is not None and _offer(db, thread, chosen.id, now):
            made += 1
    db.commit()  # end the read transaction: on SQLite it would hold the write lock
    return made


def _answer_automatically(
    db: Session, thread: Thread, question: str, product_id: int | None, now: datetime
) -> dict[str, Any] | None:
    """Post the automatic answer once per wait (claimed by a conditional UPDATE)."""
    result = db.exec(
        update(Thread)
        .where(col(Thread.id) == thread.id, col(Thread.auto_answered_at).is_(None))
        .values(auto_answered_at=now)
    )
    db.commit()
    if result.rowcount != 1:
        return None
    db.refresh(thread)
    brand = db.get(Brand, thread.brand_id)
    assert brand is not None
    answer = answers.automatic_answer(db, brand, question=question, product_id=product_id, now=now)
    return _store(
        db,
        thread,
        side=ThreadSide.SYSTEM,
        kind=ThreadMessageKind.AUTOMATIC,
        author=f"{brand.name} (automatic answer)",
        body=answer.text,
        now=now,
        product_id=product_id,
    )


def do_answer_overdue(db: Session, *, now: datetime | None = None) -> int:
    """Threads waiting past their brand's wait, with everyone busy: the automatic answer."""
    now = now or utcnow()
    rows = db.exec(
        select(Thread, Brand)
        .join(Brand, col(Brand.id) == col(Thread.brand_id))
        .where(Thread.status == ThreadStatus.WAITING, col(Thread.auto_answered_at).is_(None))
    ).all()
    answered = 0
    for thread, brand in rows:
        since = thread.waiting_since or thread.created_at
        if now - since < timedelta(seconds=brand.auto_answer_after_seconds):
            continue
        question = db.exec(
            select(ThreadMessage)
            .where(ThreadMessage.thread_id == thread.id, ThreadMessage.side == ThreadSide.SHOPPER)
            .order_by(col(ThreadMessage.id).desc())
        ).first()
        text = question.body if question else ""
        product_id = question.product_id if question else None
        if _answer_automatically(db, thread, text, product_id, now) is not None:
            answered += 1
    db.commit()
    return answered


def route_all(db: Session, *, now: datetime | None = None, accept_seconds: int = 30) -> int:
    """Route every brand with waiting threads (the scheduler's tick)."""
    brand_ids = db.exec(
        select(Thread.brand_id).where(Thread.status == ThreadStatus.WAITING).distinct()
    ).all()
    return sum(route_threads(db, b, now=now, accept_seconds=accept_seconds) for b in brand_ids)


def do_console_heartbeat(
    db: Session, profile: AssociateProfile, *, now: datetime | None = None
) -> None:
    """A console's sign of life; an associate coming back from away is offered whoever
    waits (the first one back is the one notified)."""
    now = now or utcnow()
    if routing.do_console_seen(db, profile, now):
        route_threads(db, profile.brand_id, now=now)


def do_note_in_thread(
    db: Session,
    brand_id: int,
    shopper_id: int,
    msgid: str,
    params: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Another channel's moment in the shopper's one thread ("Video started with Anna"):
    the thread holds chat, talk-now and consultations alike."""
    now = now or utcnow()
    thread = _open_thread(db, brand_id, shopper_id, now)
    return do_post_system(db, thread, msgid, params, now=now)


def do_picture_in_thread(
    db: Session,
    brand_id: int,
    shopper_id: int,
    *,
    author: str,
    user_id: int | None,
    attachment_url: str,
    caption: str,
    colour_report: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A picture the associate sent in another channel (a consultation's try-on snapshot)
    kept in the shopper's one thread too, as a photo message from the staff side."""
    now = now or utcnow()
    thread = _open_thread(db, brand_id, shopper_id, now)
    return _store(
        db,
        thread,
        side=ThreadSide.STAFF,
        kind=ThreadMessageKind.PHOTO,
        author=author,
        body=caption[:500],
        now=now,
        user_id=user_id,
        attachment_url=attachment_url,
        colour_report=colour_report,
    )
