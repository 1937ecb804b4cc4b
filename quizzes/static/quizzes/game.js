/* A hosted game's player: join, then follow the host over the websocket (no polling). */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var el = QuizGame.el;
  var app = $("app"), api = app.dataset.api;
  var tokenKey = "quiz:" + app.dataset.code + ":token";
  var SECTIONS = ["join", "lobby", "question", "result", "leaderboard", "finished"];
  var game = new QuizGame.Game();
  var me = { token: localStorage.getItem(tokenKey), nickname: null, you: null, live: null };
  var shownQuestion = null;  // the question whose buttons are on screen
  var restartCountdown = QuizGame.countdown(game, $("q-timer"), $("q-bar"), lockButtons);

  function show(section) { SECTIONS.forEach(function (id) { $(id).hidden = id !== section; }); }
  function say(text) { $("message").textContent = text || ""; $("message").hidden = !text; }

  function request(method, path, body) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (me.token) headers.Authorization = "Bearer " + me.token;
    return fetch(api + path, { method: method, headers: headers,
                               body: body ? JSON.stringify(body) : undefined })
      .then(function (response) {
        return response.json().then(function (json) { return { status: response.status, body: json }; });
      });
  }

  function errorText(result) {
    var errors = (result.body && result.body.errors) || [];
    return errors.length ? errors[0].detail : "Something went wrong (" + result.status + ").";
  }

  function joined(body) {
    me.token = body.token;
    me.nickname = body.nickname;
    localStorage.setItem(tokenKey, body.token);
    $("me").hidden = false;
    $("me-name").textContent = body.nickname;
    $("me-score").textContent = body.score;
    show("lobby");
    // Every (re)connection says hello: the server answers with this player's own state.
    me.live = QuizLive.connect(body.websocket_url || app.dataset.wsUrl, onLive, $("live"),
      function (socket) { socket.send(JSON.stringify({ type: "hello", token: me.token })); });
    window.quizLive = me.live;
  }

  function join(nickname) {
    say("");
    var stale = me.token;
    me.token = null;  // a fresh join sends no stale token
    request("POST", "/join", { nickname: nickname }).then(function (result) {
      if (result.status === 201) return joined(result.body);
      me.token = stale;
      say(errorText(result));
    });
  }

  function resume() {
    request("POST", "/join", {}).then(function (result) {
      if (result.status === 200) return joined(result.body);
      localStorage.removeItem(tokenKey);  // unknown or foreign token: start over
      me.token = null;
      show("join");
    });
  }

  function myAnswer() {
    var s = game.state, answer = me.you && me.you.answer;
    return answer && s.question && answer.question_id === s.question.id ? answer : null;
  }

  function lockButtons() {
    $("q-choices").querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    if (!myAnswer()) $("q-feedback").textContent = "Time's up!";
  }

  function renderQuestion(s) {
    show("question");
    $("q-progress").textContent = "Question " + s.number + " of " + s.total;
    if (shownQuestion !== s.question.id) {
      shownQuestion = s.question.id;
      $("q-text").textContent = s.question.text;
      $("q-feedback").textContent = "";
      $("q-choices").replaceChildren.apply($("q-choices"), s.question.choices.map(function (c, i) {
        var button = el("button", "choice c" + i, c.text);
        button.type = "button";
        button.dataset.choice = c.id;
        button.addEventListener("click", function () { answer(s.question.id, c.id); });
        return button;
      }));
    }
    var mine = myAnswer();
    if (mine) markLocked(mine.choice_id);
    if (mine || !s.accepting) lockButtons();
    restartCountdown();
  }

  function markLocked(choiceId) {
    $("q-choices").querySelectorAll("button").forEach(function (b) {
      b.disabled = true;
      b.classList.toggle("chosen", Number(b.dataset.choice) === choiceId);
    });
    $("q-feedback").textContent = "Answer locked in";
    $("q-feedback").className = "feedback locked";
  }

  function answer(questionId, choiceId) {
    markLocked(choiceId);
    request("POST", "/game/answers", { question_id: questionId, choice_id: choiceId })
      .then(function (result) {
        if (result.status === 201 || (result.body.errors || [{}])[0].code === "already_answered") {
          if (result.status === 201) me.you = Object.assign({}, me.you, { answer: result.body });
          return;
        }
        say(errorText(result));
        if (game.state.accepting) {
          $("q-choices").querySelectorAll("button").forEach(function (b) { b.disabled = false; });
          $("q-feedback").textContent = "";
        }
      });
  }

  function renderResult(s) {
    show("result");
    $("r-progress").textContent = "Question " + s.number + " of " + s.total;
    var mine = myAnswer(), correctText = "";
    s.question.choices.forEach(function (c) {
      if (c.id === s.reveal.correct_choice_id) correctText = c.text;
    });
    if (!mine) $("r-headline").textContent = "No answer this time";
    else if (mine.correct === undefined) $("r-headline").textContent = "…";
    else $("r-headline").textContent = mine.correct ? "Correct! +" + mine.points : "Not quite +0";
    $("r-headline").className = mine && mine.correct ? "good" : "bad";
    $("r-detail").textContent = "The answer: " + correctText +
      (me.you && me.you.rank ? ". You are #" + me.you.rank + "." : ".");
  }

  function render() {
    var s = game.state;
    if (!s || !me.nickname) return;
    if (me.you) {
      $("me-score").textContent = me.you.score;
      $("me-rank").textContent = me.you.rank || "–";
    }
    if (s.phase === "lobby") {
      show("lobby");
      $("lobby-players").textContent = s.players;
    } else if (s.phase === "question") {
      renderQuestion(s);
    } else if (s.phase === "reveal") {
      renderResult(s);
    } else if (s.phase === "leaderboard") {
      show("leaderboard");
      QuizLive.renderBoard($("lb-entries"), s.leaderboard, me.nickname);
    } else if (s.phase === "finished") {
      show("finished");
      QuizGame.renderPodium($("podium"), s.podium);
      $("final").textContent = me.you ? "You finished #" + (me.you.rank || "–") + " with " +
        me.you.score + " points." : "";
    }
  }

  function onLive(message) {
    if (message.type === "game") {
      if (game.accept(message)) render();
    } else if (message.type === "you") {
      me.you = message;
      render();
    } else if (message.type === "participant_joined" && game.state) {
      game.state.players += 1;
      if (game.state.phase === "lobby") $("lobby-players").textContent = game.state.players;
    } else if (message.type === "error") {
      say(message.detail);
    }
  }

  $("join-form").addEventListener("submit", function (event) {
    event.preventDefault();
    join($("nickname").value.trim());
  });

  if (me.token) resume(); else show("join");
})();
