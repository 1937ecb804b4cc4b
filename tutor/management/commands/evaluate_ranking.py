"""Offline evaluation: frequency vs priority ranking on simulated learners (tutor/evaluation.py)."""

import time

from django.core.management.base import BaseCommand, CommandParser

from tutor import evaluation, ranking


class Command(BaseCommand):
    help = "NDCG@3 of each ranking against simulated learners' true current error probabilities."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--learners", type=int, default=1_000)
        parser.add_argument("--days", type=int, default=120)
        parser.add_argument("--seed", type=int, default=14)

    def handle(self, *args, learners: int, days: int, seed: int, **options) -> None:
        if learners < 1 or days < 14:
            self.stderr.write("need --learners >= 1 and --days >= 14")
            raise SystemExit(2)
        started = time.monotonic()
        cfg = evaluation.Config(learners=learners, days=days, seed=seed)
        result = evaluation.evaluate(cfg, ranking.Model.from_settings())
        self.stdout.write(evaluation.table(result))
        self.stdout.write(
            f"\n{learners:,} learners, {days} days, {cfg.skills} skills, seed {seed}; "
            f"{time.monotonic() - started:.1f} s. NDCG@3 against each learner's true current "
            "error probabilities (mean ± standard error); best per column in bold."
        )
