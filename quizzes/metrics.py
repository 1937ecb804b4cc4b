"""Prometheus metrics. Processes run in multiprocess mode (PROMETHEUS_MULTIPROC_DIR), so the
gauge sums the live value of every daphne process."""

from prometheus_client import Counter, Gauge

participants_joined = Counter(
    "quizzes_participants_joined", "Participants who joined a quiz (resumes not counted)."
)
answers = Counter("quizzes_answers", "Answers recorded, by result.", ["result"])
websocket_connections = Gauge(
    "quizzes_websocket_connections",
    "Open quiz leaderboard websockets.",
    multiprocess_mode="livesum",
)
leaderboard_broadcasts = Counter(
    "quizzes_leaderboard_broadcasts",
    "Leaderboard messages fanned out by a process (one per quiz per flush, not per socket).",
    ["kind"],
)
