from config.api import optional_slash
from dialogs import views

urlpatterns = [
    *optional_slash("data", views.DialogListView.as_view(), name="dialog-list"),
    *optional_slash(
        "data/<str:customerId>/<str:dialogId>", views.DialogDetailView.as_view(), "dialog-detail"
    ),
    *optional_slash(
        "data/<str:customerId>", views.CustomerDialogsDeleteView.as_view(), "customer-dialogs"
    ),
    *optional_slash("consents/<str:dialogId>", views.ConsentRecordView.as_view(), "consent"),
]
