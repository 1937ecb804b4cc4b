/* The player: join (token kept in localStorage), question after question, live leaderboard. */
(function () {
  "use strict";
  var app = document.getElementById("app");
  var code = app.dataset.code, api = app.dataset.api;
  var tokenKey = "quiz:" + code + ":token";
  var $ = function (id) { return document.getElementById(id); };
  var state = { token: localStorage.getItem(tokenKey), nickname: null, closed: false,
                socket: null, timer: null, meFetch: null };

  function show(section) {
    ["join", "question", "done"].forEach(function (id) { $(id).hidden = id !== section; });
  }

  function say(text) { $("message").textContent = text || ""; $("message").hidden = !text; }

  function request(method, path, body) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(api + path, { method: method, headers: headers,
                               body: body ? JSON.stringify(body) : undefined })
      .then(function (response) {
        if (response.status === 204) return { status: 204, body: null };
        return response.json().then(function (json) { return { status: response.status, body: json }; });
      });
  }

  function errorText(result) {
    var errors = (result.body && result.body.errors) || [];
    return errors.length ? errors[0].detail : "Something went wrong (" + result.status + ").";
  }

  function setMe(score, rank) {
    $("me").hidden = false;
    $("me-name").textContent = state.nickname;
    if (score !== undefined && score !== null) $("me-score").textContent = score;
    if (rank) $("me-rank").textContent = rank;
  }

  function joined(result) {
    var body = result.body;
    state.token = body.token;
    state.nickname = body.nickname;
    localStorage.setItem(tokenKey, body.token);
    setMe(body.score, null);
    if (!state.socket) {
      state.socket = QuizLive.connect(body.websocket_url || app.dataset.wsUrl, onLive, $("live"));
    }
    fetchMe();
    nextQuestion();
  }

  function join(nickname) {
    say("");
    var token = state.token;
    state.token = null;  // a fresh join sends no stale token
    request("POST", "/join", { nickname: nickname }).then(function (result) {
      if (result.status === 201) return joined(result);
      state.token = token;
      say(errorText(result));
    });
  }

  function resume() {
    request("POST", "/join", {}).then(function (result) {
      if (result.status === 200) return joined(result);
      localStorage.removeItem(tokenKey);  // unknown or foreign token: start over
      state.token = null;
      showJoin();
    });
  }

  function showJoin() {
    show("join");
    if (app.dataset.status !== "open") say("This quiz is " + app.dataset.status + ".");
    connectWatchOnly();
  }

  function connectWatchOnly() {
    if (!state.socket) state.socket = QuizLive.connect(app.dataset.wsUrl, onLive, $("live"));
  }

  function nextQuestion() {
    if (state.closed) return;
    request("GET", "/next").then(function (result) {
      if (result.status === 204) { show("done"); $("done-score").textContent = $("me-score").textContent; return; }
      if (result.status !== 200) { say(errorText(result)); return; }
      renderQuestion(result.body);
    });
  }

  function renderQuestion(q) {
    show("question");
    $("q-progress").textContent = "Question " + q.number + " of " + q.total;
    $("q-text").textContent = q.text;
    $("q-feedback").textContent = "";
    $("q-feedback").className = "feedback";
    var buttons = q.choices.map(function (choice) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.textContent = choice.text;
      button.addEventListener("click", function () { answer(q, choice, button); });
      return button;
    });
    $("q-choices").replaceChildren.apply($("q-choices"), buttons);
    startCountdown(q.remaining, q.time_limit);
  }

  function startCountdown(remaining, limit) {
    clearInterval(state.timer);
    // The server's `remaining` is the truth; a refresh continues the same clock.
    var deadline = Date.now() + remaining * 1000;
    function tick() {
      var left = Math.max(0, (deadline - Date.now()) / 1000);
      $("q-timer").textContent = left > 0 ? Math.ceil(left) + "s" : "time's up";
      $("q-timer").className = "timer" + (left < 5 ? " urgent" : "");
      $("q-bar").style.width = (100 * left / limit) + "%";
      if (left <= 0) {
        clearInterval(state.timer);
        $("q-feedback").textContent = "Time's up: pick any answer to go on (0 points).";
      }
    }
    tick();
    state.timer = setInterval(tick, 100);
  }

  function answer(q, choice, button) {
    var all = $("q-choices").querySelectorAll("button");
    all.forEach(function (b) { b.disabled = true; });
    request("POST", "/answers", { question_id: q.id, choice_id: choice.id }).then(function (result) {
      clearInterval(state.timer);
      if (result.status !== 201 && result.status !== 409) { say(errorText(result)); all.forEach(function (b) { b.disabled = false; }); return; }
      if (result.status === 409) { say(errorText(result)); setTimeout(nextQuestion, 800); return; }
      var r = result.body;
      button.classList.add(r.correct ? "right" : "wrong");
      $("q-feedback").textContent = r.late ? "Too late: 0 points." :
        (r.correct ? "Correct! +" + r.points : "Not quite.");
      $("q-feedback").className = "feedback " + (r.correct && !r.late ? "good" : "bad");
      setMe(r.score, r.rank);
      setTimeout(nextQuestion, 1200);
    });
  }

  function fetchMe() {
    request("GET", "/leaderboard?limit=1").then(function (result) {
      if (result.status === 200 && result.body.me) setMe(result.body.me.score, result.body.me.rank);
    });
  }

  function onLive(message) {
    if (message.type === "leaderboard" || message.type === "quiz_closed") {
      QuizLive.renderBoard($("entries"), message.entries, state.nickname);
      $("participants").textContent = message.participants;
      var mine = message.entries.filter(function (e) {
        return state.nickname && e.nickname.toLowerCase() === state.nickname.toLowerCase();
      })[0];
      if (mine) setMe(mine.score, mine.rank);
      else if (state.token && !state.meFetch) {
        // Not in the top list: refresh my rank now and then, not on every broadcast.
        state.meFetch = setTimeout(function () { state.meFetch = null; fetchMe(); }, 3000);
      }
    }
    if (message.type === "quiz_closed") {
      state.closed = true;
      clearInterval(state.timer);
      $("q-choices").querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      say("The quiz is closed. Final results are on the board.");
    }
  }

  $("join-form").addEventListener("submit", function (event) {
    event.preventDefault();
    join($("nickname").value.trim());
  });

  if (state.token) resume(); else showJoin();
})();
