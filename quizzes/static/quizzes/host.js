/* The host's big screen: follows the game over the websocket and drives it via the staff API. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var el = QuizGame.el;
  var app = $("app"), api = app.dataset.api, csrf = app.dataset.csrf;
  var game = new QuizGame.Game();
  var names = [];
  var PHASES = ["lobby", "question", "reveal", "leaderboard", "finished"];
  var restartCountdown = QuizGame.countdown(game, $("q-timer"), $("q-bar"));

  function say(text) { $("message").textContent = text || ""; }

  function request(method, path) {
    return fetch(api + path, {
      method: method, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    });
  }

  function act(action) {
    say("");
    request("POST", "/game/" + action).then(function (result) {
      if (!result.ok) { say((result.body.errors || [{}])[0].detail || "Failed."); return; }
      if (game.accept(result.body)) render();
    });
  }

  function loadPlayers() {
    request("GET", "/results").then(function (result) {
      if (!result.ok) { say("Sign in as staff to host this quiz."); return; }
      names = result.body.players.map(function (p) { return p.nickname; });
      renderNames();
      renderStandings(result.body.players);
    });
  }

  function renderNames() {
    $("lobby-names").replaceChildren.apply($("lobby-names"), names.map(function (name) {
      return el("li", "name-chip", name);
    }));
    $("lobby-empty").hidden = names.length > 0;
  }

  function renderStandings(players) {
    $("standings").replaceChildren.apply($("standings"), players.map(function (p) {
      var tr = el("tr");
      tr.append(el("td", null, p.rank), el("td", null, p.nickname), el("td", null, p.score));
      return tr;
    }));
  }

  function renderChoices(question) {
    $("q-choices").replaceChildren.apply($("q-choices"), question.choices.map(function (c, i) {
      return el("li", "host-choice c" + i, c.text);
    }));
  }

  function renderChart(state) {
    var counts = state.reveal.counts, max = 1;
    counts.forEach(function (c) { max = Math.max(max, c.count); });
    var byId = {};
    state.question.choices.forEach(function (c) { byId[c.id] = c.text; });
    $("r-chart").replaceChildren.apply($("r-chart"), counts.map(function (c, i) {
      var correct = c.choice_id === state.reveal.correct_choice_id;
      var row = el("div", "chart-row c" + i + (correct ? " correct" : ""));
      var fill = el("div", "chart-fill");
      fill.style.width = (100 * c.count / max) + "%";
      var track = el("div", "chart-track");
      track.append(fill);
      row.append(el("span", "chart-label", (correct ? "✓ " : "") + byId[c.choice_id]), track,
                 el("span", "chart-count", c.count));
      return row;
    }));
  }

  function render() {
    var s = game.state;
    PHASES.forEach(function (id) { $(id).hidden = id !== s.phase; });
    $("btn-start").hidden = s.phase !== "lobby";
    $("btn-reveal").hidden = s.phase !== "question";
    $("btn-next").hidden = s.phase !== "reveal" && s.phase !== "leaderboard";
    $("btn-end").hidden = s.phase === "finished";
    $("players").textContent = s.players;
    $("phase-label").textContent = QuizGame.phaseLabel(s);
    if (s.phase === "question") {
      $("q-progress").textContent = "Question " + s.number + " of " + s.total;
      $("q-text").textContent = s.question.text;
      renderChoices(s.question);
      renderAnswered();
      restartCountdown();
    } else if (s.phase === "reveal") {
      $("r-progress").textContent = "Question " + s.number + " of " + s.total;
      $("r-text").textContent = s.question.text;
      renderChart(s);
    } else if (s.phase === "leaderboard") {
      QuizLive.renderBoard($("lb-entries"), s.leaderboard, null);
    } else if (s.phase === "finished") {
      QuizGame.renderPodium($("podium"), s.podium);
      loadPlayers();
    }
  }

  function renderAnswered() {
    $("q-answered").textContent = game.state.answered || 0;
    $("q-players").textContent = game.state.players;
  }

  function onLive(message) {
    if (message.type === "game") {
      if (game.accept(message)) render();
    } else if (message.type === "answered") {
      if (game.answered(message)) renderAnswered();
    } else if (message.type === "participant_joined") {
      names.push(message.nickname);
      renderNames();
      if (game.state) { game.state.players += 1; $("players").textContent = game.state.players; }
    }
  }

  ["start", "reveal", "next", "end"].forEach(function (action) {
    $("btn-" + action).addEventListener("click", function () { act(action); });
  });
  // Every (re)connection brings a fresh state; the names are reloaded too, none is missed.
  QuizLive.connect(app.dataset.wsUrl, onLive, $("live"), loadPlayers);
})();
