import io
import random

from django.core.management import call_command

from tutor import evaluation, ranking

MODEL = ranking.Model(half_life_days=7, practice_effect=0.1)


def test_ndcg_is_one_for_the_ideal_order_and_lower_otherwise():
    truth = [0.1, 0.5, 0.3, 0.0]

    assert evaluation.ndcg_at(3, [1, 2, 0], truth) == 1.0
    assert 0 < evaluation.ndcg_at(3, [0, 2, 1], truth) < 1
    assert evaluation.ndcg_at(3, [], truth) == 0.0


def test_simulated_learners_emit_more_errors_on_weaker_skills():
    cfg = evaluation.Config(learners=1, days=60)
    learner = evaluation.learner_simulate(random.Random(3), cfg)

    totals = [0] * cfg.skills
    for (sid, _), n in learner.evidence.errors.items():
        totals[sid] += n
    weakest = max(range(cfg.skills), key=lambda s: learner.skills[s].p)
    strongest = min(range(cfg.skills), key=lambda s: learner.skills[s].p)
    assert totals[weakest] > totals[strongest]


def test_evaluation_is_reproducible_and_scores_every_ranking():
    cfg = evaluation.Config(learners=40, days=60)

    first = evaluation.evaluate(cfg, MODEL)
    second = evaluation.evaluate(cfg, MODEL)

    assert first.scores == second.scores
    assert first.counts["all"] == 40
    assert any(name.startswith("priority (default") for name in first.scores)
    assert all(0 < s["all"][0] <= 1 for s in first.scores.values())


def test_evaluate_ranking_command_prints_the_table():
    out = io.StringIO()

    call_command("evaluate_ranking", "--learners", "20", "--days", "30", stdout=out)

    text = out.getvalue()
    assert "| ranking | all (n=20)" in text
    assert "frequency, last 7 days" in text
    assert "20 learners, 30 days" in text
