"""The blog's data: drawn by hypothesis, stored through SQLAlchemy (see :mod:`.shop_data`
for the pattern). Comments answer comments, some written later than their answers'
ids (re-pointed after they exist); tags are linked through ``post_tags``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from tests.integration._orm_apps import strategies as s
from tests.integration._orm_apps.blog import Blog, PostState
from tests.integration._orm_apps.shop_data import by_own_time

Draw = dict[str, Any]
# typical ratings beside float32-exact ones: a real column keeps the nearest float32
RATINGS = s.Kind(
    (4.35, 0.1, 3.0, -0.5, 1e-3, 65504.0),
    st.floats(min_value=-(2.0**100), max_value=2.0**100, width=32),
)
KINDS = {
    "name": s.texts(255),
    "title": s.texts(200),
    "text": s.texts(300),
    "int32": s.ints(-(2**31), 2**31 - 1),
    "count": s.ints(0, 2**31 - 1),
    "rating": RATINGS,
    "score": s.money(Decimal("99999.999"), places=3),
    "instant": s.instants(),
    "wall clock": s.wall_clocks(),
    "json": s.json_documents(),
    "keywords": s.tags(),
}


@dataclass
class BlogRows:
    users: list[Draw] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    posts: list[Draw] = field(default_factory=list)  # "author": position, "tags": positions
    comments: list[Draw] = field(default_factory=list)  # "post", "author", "parent"

    def __repr__(self) -> str:  # the drawn rows are long; the failure names the row
        return (
            f"BlogRows({len(self.users)} users, {len(self.tags)} tags, {len(self.posts)} posts, "
            f"{len(self.comments)} comments)"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis prints this
        printer.text(repr(self))


@st.composite
def blog_rows(draw: st.DrawFn) -> BlogRows:
    """A few hundred rows across the blog's five tables."""
    pick = draw(s.picker(KINDS))
    users = [
        {
            "display_name": pick("name"),
            "bio": pick.maybe("text"),
            "is_admin": pick.flag(0.1),
            "karma": pick("int32"),
            "rating": pick.maybe("rating"),
            "joined_at": pick("instant"),
        }
        for _ in range(pick.count(20, 60))
    ]
    tags = [pick("title")[:50] for _ in range(pick.count(5, 20))]
    posts = [
        {
            "author": pick.index(len(users)),
            "title": pick("title"),
            "body": pick("text"),
            "state": pick.rnd.choice(list(PostState)),
            "published_at": pick.maybe("instant"),
            "edited_at": pick.maybe("wall clock"),
            "word_count": pick("count"),
            "score": pick("score"),
            "meta": pick("json"),
            "keywords": pick("keywords"),
            "tags": set(pick.rnd.sample(range(len(tags)), pick.count(0, 3))),
        }
        for _ in range(pick.count(40, 100))
    ]
    comments: list[Draw] = [
        {
            "post": pick.index(len(posts)),
            "author": None if pick.flag(0.2) else pick.index(len(users)),
            "body": pick("text"),
            "is_spam": pick.flag(0.1),
            "written_at": pick("instant"),
            "parent": None,
        }
        for _ in range(pick.count(60, 200))
    ]
    ranked = pick.rnd.sample(range(len(comments)), len(comments))
    for rank, index in enumerate(ranked[1:], start=1):  # a reply tree, whatever the ids
        if pick.flag():
            comments[index]["parent"] = ranked[pick.index(rank)]
    return BlogRows(users, tags, posts, comments)


def fill(engine: Engine, blog: Blog, rows: BlogRows) -> None:
    """Store ``rows`` through the ORM as the application would."""
    with Session(engine) as session:
        users = [blog.users(handle=f"user{i}", **r) for i, r in enumerate(rows.users)]
        tags = [blog.tags(name=f"{i}:{name}") for i, name in enumerate(rows.tags)]
        session.add_all([*users, *tags])
        session.flush()
        posts = []
        for i, r in enumerate(rows.posts):
            values = {k: v for k, v in r.items() if k not in ("author", "tags")}
            posts.append(
                blog.posts(
                    public_id=uuid.uuid4(),
                    author_id=users[r["author"]].id,
                    slug=f"post-{i}",
                    **values,
                )
            )
        session.add_all(posts)
        session.flush()
        links = [
            {"post_id": post.id, "tag_id": tags[t].id}
            for post, r in zip(posts, rows.posts, strict=True)
            for t in sorted(r["tags"])
        ]
        if links:
            session.execute(insert(blog.post_tags), links)
        comments = []
        for r in rows.comments:
            author = None if r["author"] is None else users[r["author"]].id
            values = {k: r[k] for k in ("body", "is_spam", "written_at")}
            comments.append(blog.comments(post_id=posts[r["post"]].id, author_id=author, **values))
        session.add_all(comments)
        session.flush()
        for comment, r in zip(comments, rows.comments, strict=True):
            if r["parent"] is not None:  # an answer, maybe to a comment with a later id
                comment.parent_id = comments[r["parent"]].id
        session.commit()


def queries(engine: Engine, blog: Blog) -> dict[str, Any]:
    p, u = blog.posts, blog.users
    with Session(engine) as session:
        ids = session.scalars(select(p.public_id).order_by(p.id).limit(15)).all()
        return {
            "posts looked up by public_id": [
                session.scalar(select(p.id).where(p.public_id == i)) for i in ids
            ],
            "published posts": session.scalars(
                select(p.id).where(p.state == PostState.published).order_by(p.id)
            ).all(),
            "admins": session.scalars(
                select(u.id).where(u.is_admin.is_(True)).order_by(u.id)
            ).all(),
            "posts by published_at": session.scalars(
                select(p.id).where(p.published_at.is_not(None)).order_by(p.published_at, p.id)
            ).all(),
            "posts looked up by their own published_at": by_own_time(session, p.id, p.published_at),
        }


def add_one_of_each(engine: Engine, blog: Blog) -> dict[str, int]:
    """New objects after the cut-over, ids left to the database (identity columns)."""
    with Session(engine) as session:
        user = blog.users(handle="new-after-cut-over", display_name="New")
        tag = blog.tags(name="new after cut-over")
        session.add_all([user, tag])
        session.flush()
        post = blog.posts(
            public_id=uuid.uuid4(),
            author_id=user.id,
            title="New",
            slug="new-after-cut-over",
            body="",
            word_count=0,
            score=Decimal(0),
            meta={},
            keywords=[],
        )
        session.add(post)
        session.flush()
        comment = blog.comments(post_id=post.id, body="first", written_at=s.EDGE_INSTANTS[0])
        session.add(comment)
        session.flush()
        ids = {"users": user.id, "tags": tag.id, "posts": post.id, "comments": comment.id}
        session.commit()
    return ids
