from config import converters  # noqa: F401 (registers `any_uuid`)
from config.api import optional_slash
from tutor import learning_views, recommend_views, views

urlpatterns = [
    *optional_slash("api/users", views.UserCreateView.as_view(), "tutor-users"),
    *optional_slash("api/users/<any_uuid:user_id>", views.UserDetailView.as_view(), "tutor-user"),
    *optional_slash(
        "api/conversations", views.ConversationCreateView.as_view(), "tutor-conversations"
    ),
    *optional_slash("api/utterances", views.UtteranceCreateView.as_view(), "tutor-utterances"),
    *optional_slash(
        "api/utterances/bulk", views.UtteranceBulkCreateView.as_view(), "tutor-utterances-bulk"
    ),
    *optional_slash(
        "api/utterances/<any_uuid:utterance_id>/errors",
        views.UtteranceErrorsAddView.as_view(),
        "tutor-utterance-errors",
    ),
    *optional_slash("api/errors", views.ErrorCreateView.as_view(), "tutor-errors"),
    *optional_slash(
        "api/generate-exercise",
        recommend_views.GenerateExerciseView.as_view(),
        "tutor-generate-exercise",
    ),
    *optional_slash(
        "api/exercise-attempts", learning_views.AttemptCreateView.as_view(), "tutor-attempts"
    ),
    *optional_slash(
        "api/users/<any_uuid:user_id>/attempts",
        learning_views.UserAttemptsView.as_view(),
        "tutor-user-attempts",
    ),
    *optional_slash(
        "api/users/<any_uuid:user_id>/progress",
        learning_views.UserProgressView.as_view(),
        "tutor-user-progress",
    ),
    *optional_slash(
        "api/users/<any_uuid:user_id>/level",
        learning_views.UserLevelView.as_view(),
        "tutor-user-level",
    ),
    *optional_slash(
        "api/exercises/<int:exercise_id>",
        learning_views.ExerciseDetailView.as_view(),
        "tutor-exercise",
    ),
]
