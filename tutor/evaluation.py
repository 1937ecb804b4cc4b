"""Offline evaluation of the rankings on simulated learners (`manage.py evaluate_ranking`).

Each simulated learner has a hidden error probability per skill that drifts: stable skills stay
put (with noise), some improve each time they are practised, some get steadily worse, and some
are new weaknesses that appear partway through. On active days the learner talks (errors are
drawn from those probabilities) and sometimes practises a skill it recently made errors in
(chosen at random, so that no ranking under test steers the data). At the end, each ranking sees
the evidence exactly as the API would (per-day errors and attempts) and is scored by NDCG@3
against the learner's true current error probabilities. The live ranking functions
(`tutor.ranking`) do the ranking; only the world is simulated. Seeded: reruns are identical.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tutor import ranking
from tutor.evidence import Evidence

START = date(2026, 1, 1)


@dataclass(frozen=True)
class Config:
    learners: int = 1_000
    days: int = 120
    skills: int = 24  # as many as the taxonomy's subcategories
    seed: int = 14
    practice_rate: float = 0.5  # chance of practising on an active day
    stable_share: float = 0.3  # learners whose skills do not drift at all
    practice_gain: float = 0.15  # a responsive skill's error probability falls this much per try


@dataclass
class Skill:
    p: float
    kind: str  # stable | practice | worse | new
    start: int = 0  # worse: ramp start; new: onset day
    target: float = 0.0

    def step(self, day: int, rng: random.Random) -> None:
        if self.kind == "stable":
            self.p = min(0.5, max(0.002, self.p * math.exp(rng.gauss(0, 0.03))))
        elif self.kind == "worse" and day >= self.start:
            self.p = min(self.target, self.p * 1.03)
        elif self.kind == "new" and day == self.start:
            self.p = self.target


@dataclass
class Learner:
    skills: list[Skill]
    activity: float  # chance of a conversation on a given day
    utterances: int  # per conversation
    drifting: bool
    evidence: Evidence = field(default_factory=lambda: Evidence(since=START))


def _poisson(rng: random.Random, lam: float) -> int:
    threshold, k, product = math.exp(-lam), 0, rng.random()
    while product > threshold:
        k += 1
        product *= rng.random()
    return k


def _skill(rng: random.Random, cfg: Config, drifting: bool) -> Skill:
    weak = rng.random() < 0.2
    p = rng.uniform(0.08, 0.25) if weak else rng.uniform(0.005, 0.04)
    kind = rng.choices(["stable", "practice", "worse", "new"], [45, 25, 15, 15])[0]
    if not drifting or kind == "stable":
        return Skill(p, "stable")
    if kind == "practice":
        return Skill(max(p, rng.uniform(0.05, 0.2)), "practice")
    if kind == "worse":
        return Skill(p, "worse", rng.randrange(cfg.days // 2), min(0.4, p * rng.uniform(3, 6)))
    return Skill(0.003, "new", rng.randrange(cfg.days // 2, cfg.days - 3), rng.uniform(0.08, 0.3))


def learner_simulate(rng: random.Random, cfg: Config) -> Learner:
    drifting = rng.random() >= cfg.stable_share
    learner = Learner(
        skills=[_skill(rng, cfg, drifting) for _ in range(cfg.skills)],
        activity=rng.uniform(0.15, 0.9),
        utterances=rng.randrange(5, 30),
        drifting=drifting,
    )
    for day in range(cfg.days):
        for skill in learner.skills:
            skill.step(day, rng)
        if rng.random() < learner.activity:
            _conversation(rng, cfg, learner, day)
    return learner


def _conversation(rng: random.Random, cfg: Config, learner: Learner, day: int) -> None:
    when = START + timedelta(days=day)
    noon = datetime(when.year, when.month, when.day, 12, tzinfo=UTC)
    for sid, skill in enumerate(learner.skills):
        n = _poisson(rng, learner.utterances * skill.p)
        if n:
            learner.evidence.add_errors(sid, when, n, noon)
    recent = {s for (s, d), _ in learner.evidence.errors.items() if (when - d).days < 14}
    if recent and rng.random() < cfg.practice_rate:
        sid = rng.choice(sorted(recent))
        skill = learner.skills[sid]
        tries = rng.randrange(1, 4)
        correct = sum(rng.random() > min(0.95, 2 * skill.p) for _ in range(tries))
        learner.evidence.add_attempts(sid, when, tries, correct)
        if skill.kind == "practice":
            skill.p *= (1 - cfg.practice_gain) ** tries


def _since(evidence: Evidence, since: date) -> Evidence:
    """The evidence a window of the API would read."""
    out = Evidence(since=since)
    for (sid, day), n in evidence.errors.items():
        if day >= since:
            out.add_errors(sid, day, n, datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
    for (sid, day), n in evidence.attempts.items():
        if day >= since:
            out.add_attempts(sid, day, n, evidence.correct[(sid, day)])
    return out


Ranker = Callable[[Evidence, date], list[int]]


def frequency_ranker(window_days: int | None) -> Ranker:
    def rank(evidence: Evidence, today: date) -> list[int]:
        since = today - timedelta(days=window_days - 1) if window_days else START
        scores = ranking.frequency_scores(evidence=_since(evidence, since))
        return [s.subcategory_id for s in sorted(scores, key=ranking.order_key)]

    return rank


def priority_ranker(model: ranking.Model, horizon_days: int = 90) -> Ranker:
    def rank(evidence: Evidence, today: date) -> list[int]:
        window = _since(evidence, today - timedelta(days=horizon_days - 1))
        scores = ranking.priority_scores(evidence=window, today=today, model=model)
        return [s.subcategory_id for s in sorted(scores, key=ranking.order_key)]

    return rank


def ndcg_at(k: int, ranked: list[int], truth: list[float]) -> float:
    dcg = sum(truth[sid] / math.log2(i + 2) for i, sid in enumerate(ranked[:k]))
    ideal = sum(p / math.log2(i + 2) for i, p in enumerate(sorted(truth, reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def rankers(model: ranking.Model) -> dict[str, Ranker]:
    """What is compared: today's frequency windows, the default priority model and variants."""

    def variant(**changes: float) -> ranking.Model:
        return ranking.Model(**{**model.__dict__, **changes})

    return {
        "frequency, all time (the API default)": frequency_ranker(None),
        "frequency, last 30 days": frequency_ranker(30),
        "frequency, last 14 days": frequency_ranker(14),
        "frequency, last 7 days": frequency_ranker(7),
        f"priority (default: half-life {model.half_life_days:g} d, practice effect "
        f"{model.practice_effect:g})": priority_ranker(model),
        "priority, half-life 3 d": priority_ranker(variant(half_life_days=3)),
        "priority, half-life 14 d": priority_ranker(variant(half_life_days=14)),
        "priority, no practice effect": priority_ranker(variant(practice_effect=0.0)),
    }


def _top3(learner: Learner) -> list[Skill]:
    return sorted(learner.skills, key=lambda s: -s.p)[:3]


SEGMENTS: dict[str, Callable[[Learner], bool]] = {
    "all": lambda learner: True,
    "stable": lambda learner: not learner.drifting,
    "drifting": lambda learner: learner.drifting,
    "new weakness in true top 3": lambda learner: any(s.kind == "new" for s in _top3(learner)),
    "worsening skill in true top 3": lambda learner: any(s.kind == "worse" for s in _top3(learner)),
    "low activity": lambda learner: learner.activity < 0.4,
    "high activity": lambda learner: learner.activity >= 0.4,
}


@dataclass(frozen=True)
class Result:
    config: Config
    counts: dict[str, int]  # learners per segment
    scores: dict[str, dict[str, tuple[float, float]]]  # ranker -> segment -> (mean, std error)
    values: dict[str, list[float]]  # ranker -> NDCG@3 per learner, in learner order


def evaluate(cfg: Config, model: ranking.Model) -> Result:
    rng = random.Random(cfg.seed)
    today = START + timedelta(days=cfg.days - 1)
    compared = rankers(model)
    per: dict[str, dict[str, list[float]]] = {n: {s: [] for s in SEGMENTS} for n in compared}
    counts = dict.fromkeys(SEGMENTS, 0)
    for _ in range(cfg.learners):
        learner = learner_simulate(rng, cfg)
        truth = [skill.p for skill in learner.skills]
        segments = [s for s, test in SEGMENTS.items() if test(learner)]
        for s in segments:
            counts[s] += 1
        for name, rank in compared.items():
            value = ndcg_at(3, rank(learner.evidence, today), truth)
            for s in segments:
                per[name][s].append(value)
    scores = {
        name: {s: _mean_se(values) for s, values in by_segment.items()}
        for name, by_segment in per.items()
    }
    values = {name: by_segment["all"] for name, by_segment in per.items()}
    return Result(config=cfg, counts=counts, scores=scores, values=values)


def _mean_se(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0] if values else float("nan"), 0.0)
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values))


def table(result: Result) -> str:
    """The markdown table: NDCG@3 per ranking and learner segment (mean ± standard error)."""
    segments = list(SEGMENTS)
    head = " | ".join(f"{s} (n={result.counts[s]:,})" for s in segments)
    lines = [f"| ranking | {head} |", "|---" * (len(segments) + 1) + "|"]
    best = {s: max(scores[s][0] for scores in result.scores.values()) for s in segments}
    for name, scores in result.scores.items():
        cells = []
        for s in segments:
            mean, se = scores[s]
            cell = f"{mean:.3f} ± {se:.3f}"
            cells.append(f"**{cell}**" if mean == best[s] else cell)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", *paired(result)])


def paired(result: Result) -> list[str]:
    """The default priority model against each frequency window, learner by learner: the mean
    difference (its standard error is far smaller than the columns' above) and wins/losses."""
    names = list(result.values)
    mine = next(n for n in names if n.startswith("priority (default"))
    lines = ["| priority (default) vs | mean NDCG@3 difference | learners better / worse / tied |"]
    lines.append("|---|---|---|")
    for other in (n for n in names if n.startswith("frequency")):
        diffs = [a - b for a, b in zip(result.values[mine], result.values[other], strict=True)]
        mean, se = _mean_se(diffs)
        better = sum(d > 1e-9 for d in diffs)
        worse = sum(d < -1e-9 for d in diffs)
        lines.append(
            f"| {other} | {mean:+.4f} ± {se:.4f} | {better} / {worse} / "
            f"{len(diffs) - better - worse} |"
        )
    return lines
