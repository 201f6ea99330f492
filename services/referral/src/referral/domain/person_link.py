"""Which person a referral is for, following identity's merges and unmerges.

A merge moves the referral from the retired person to the surviving one; undoing that merge moves it back. Both are
idempotent (a redelivered merge or unmerge changes nothing) and tolerate disorder: an unmerge that arrives before
its merge is remembered, so the late merge is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class PersonMove:
    """The referral moved from one person to another by a merge."""

    merge_id: str
    from_person_id: str
    to_person_id: str


@dataclass(frozen=True)
class PersonLink:
    """The referral's person now, and the merges that moved it."""

    person_id: str
    moves: tuple[PersonMove, ...] = ()
    undone: frozenset[str] = frozenset()

    def merged(self, merge_id: str, retired_person_id: str, surviving_person_id: str) -> PersonLink:
        """The link after a merge (unchanged unless the referral is the retired person's)."""
        if merge_id in self.undone or self._move(merge_id) or self.person_id != retired_person_id:
            return self
        move = PersonMove(merge_id, retired_person_id, surviving_person_id)
        return replace(self, person_id=surviving_person_id, moves=(*self.moves, move))

    def unmerged(self, merge_id: str) -> PersonLink:
        """The link after a merge is undone: back to the retired person if that merge moved it."""
        move = self._move(merge_id)
        undone = self.undone | {merge_id}
        if move is None or self.person_id != move.to_person_id:
            return replace(self, undone=undone)
        moves = tuple(m for m in self.moves if m.merge_id != merge_id)
        return PersonLink(move.from_person_id, moves, undone)

    def _move(self, merge_id: str) -> PersonMove | None:
        return next((move for move in self.moves if move.merge_id == merge_id), None)
