(function () {
  "use strict";
  var app = document.getElementById("app");
  var entries = document.getElementById("entries");
  var participants = document.getElementById("participants");
  var status = document.getElementById("status");

  QuizLive.connect(app.dataset.wsUrl, function (message) {
    if (message.type === "leaderboard" || message.type === "quiz_closed") {
      QuizLive.renderBoard(entries, message.entries, null);
      participants.textContent = message.participants;
    }
    if (message.type === "quiz_closed") {
      status.textContent = "closed: final results";
      app.classList.add("closed");
    }
  }, document.getElementById("live"));
})();
