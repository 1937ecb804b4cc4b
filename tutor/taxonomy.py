"""In-process cache of the error taxonomy and exercises (reference data, read on every request).

Ingestion resolves labels and generate-exercise picks exercises without a query. Entries live
TAXONOMY_CACHE_SECONDS; an unknown label forces one reload first, so a subcategory added in the
admin is usable at once, while edits to existing rows show up within the cache lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from config.caching import ExpiringCache
from config.errors import ApplicationError
from tutor.models import ErrorSubcategory, Exercise, label_key

EXERCISES_PER_ERROR = 2


@dataclass(frozen=True)
class Subcategory:
    id: int
    name: str
    category: str


@dataclass(frozen=True)
class ExerciseCard:
    id: int
    title: str
    instructions: str
    prompt: str
    difficulty: str
    level: str = ""  # CEFR; rotation offers exercises near the learner's level first


@dataclass
class Taxonomy:
    by_key: dict[tuple[str, str], Subcategory] = field(default_factory=dict)
    by_id: dict[int, Subcategory] = field(default_factory=dict)
    category_keys: set[str] = field(default_factory=set)
    exercises: dict[int, list[ExerciseCard]] = field(default_factory=dict)
    # Every exercise per subcategory, easiest first: what rotation (tutor/rotation.py) chooses from.
    pool: dict[int, list[ExerciseCard]] = field(default_factory=dict)


_cache: ExpiringCache[str, Taxonomy] = ExpiringCache(
    maxsize=1, seconds=lambda: settings.TAXONOMY_CACHE_SECONDS
)
_KEY = "taxonomy"


def _load() -> Taxonomy:
    taxonomy = Taxonomy()
    for sub in ErrorSubcategory.objects.select_related("category"):
        item = Subcategory(id=sub.id, name=sub.name, category=sub.category.name)
        taxonomy.by_key[(sub.category.key, sub.key)] = item
        taxonomy.by_id[sub.id] = item
        taxonomy.category_keys.add(sub.category.key)
    # Deterministic choice: the easiest exercises first, then the oldest.
    for ex in Exercise.objects.order_by("subcategory_id", "difficulty", "id"):
        cards = taxonomy.exercises.setdefault(ex.subcategory_id, [])
        label = Exercise.Difficulty(ex.difficulty).label
        card = ExerciseCard(ex.id, ex.title, ex.instructions, ex.prompt, label, ex.level)
        taxonomy.pool.setdefault(ex.subcategory_id, []).append(card)
        if len(cards) < EXERCISES_PER_ERROR:
            cards.append(card)
    return taxonomy


def taxonomy_get(*, refresh: bool = False) -> Taxonomy:
    """The cached taxonomy; `refresh` reloads it first (and caches the new one)."""
    if refresh:
        _cache.forget(_KEY)
    return _cache.get_or_load(_KEY, _load)


def taxonomy_forget() -> None:
    _cache.clear()


def subcategory_resolve(*, category: str, subcategory: str, attr_prefix: str = "") -> Subcategory:
    """Maps client labels to a subcategory; 400 naming the offending field otherwise."""
    key = (label_key(category), label_key(subcategory))
    taxonomy = taxonomy_get()
    if key not in taxonomy.by_key:
        taxonomy = taxonomy_get(refresh=True)
    found = taxonomy.by_key.get(key)
    if found is not None:
        return found
    if key[0] not in taxonomy.category_keys:
        raise ApplicationError(
            "unknown_category",
            f"Unknown error category {category!r}.",
            attr=f"{attr_prefix}errorCategory",
        )
    raise ApplicationError(
        "unknown_subcategory",
        f"{subcategory!r} is not a subcategory of {category!r}.",
        attr=f"{attr_prefix}errorSubCategory",
    )
