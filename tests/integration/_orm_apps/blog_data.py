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

Draw = dict[str, Any]
# typical ratings beside float32-exact ones: a real column keeps the nearest float32
RATINGS = st.one_of(
    st.sampled_from([4.35, 0.1, 3.0, -0.5, 1e-3, 65504.0]),
    st.floats(min_value=-(2.0**100), max_value=2.0**100, width=32),
)


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
    user = st.fixed_dictionaries(
        {
            "display_name": s.texts(255),
            "bio": st.none() | s.texts(300),
            "is_admin": st.booleans(),
            "karma": st.integers(-(2**31), 2**31 - 1),
            "rating": st.none() | RATINGS,
            "joined_at": s.instants(),
        }
    )
    users = draw(st.lists(user, min_size=20, max_size=50))
    tags = draw(st.lists(s.texts(50), min_size=5, max_size=20))
    post = st.fixed_dictionaries(
        {
            "author": st.integers(0, len(users) - 1),
            "title": s.texts(200),
            "body": s.texts(500),
            "state": st.sampled_from(PostState),
            "published_at": st.none() | s.instants(),
            "edited_at": st.none() | s.wall_clocks(),
            "word_count": st.integers(0, 2**31 - 1),
            "score": s.money(Decimal("99999.999"), places=3),
            "meta": s.json_documents(),
            "keywords": s.tags(),
            "tags": st.sets(st.integers(0, len(tags) - 1), max_size=3) if tags else st.just(set()),
        }
    )
    posts = draw(st.lists(post, min_size=40, max_size=80))
    comment = st.fixed_dictionaries(
        {
            "post": st.integers(0, len(posts) - 1),
            "author": st.none() | st.integers(0, len(users) - 1),
            "body": s.texts(300),
            "is_spam": st.booleans(),
            "written_at": s.instants(),
        }
    )
    comments = draw(st.lists(comment, min_size=60, max_size=150))
    order = draw(st.permutations(range(len(comments))))
    for rank, index in enumerate(order):  # a reply tree, acyclic whatever the ids
        comments[index]["parent"] = (
            order[draw(st.integers(0, rank - 1))] if rank and draw(st.booleans()) else None
        )
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
