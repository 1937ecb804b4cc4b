/* Shared by the host screen and the hosted player page: the game state, countdown, podium. */
(function () {
  "use strict";

  // Keeps the newest state: a late or repeated message of an older version never wins.
  function Game() {
    this.state = null;
    this.deadline = null;  // local clock: receive time + the server's `remaining`
  }
  Game.prototype.accept = function (state) {
    if (this.state && state.version < this.state.version) return false;
    this.state = state;
    this.deadline = state.remaining === null ? null : Date.now() + state.remaining * 1000;
    return true;
  };
  Game.prototype.answered = function (message) {
    if (!this.state || message.version !== this.state.version) return false;
    this.state.answered = Math.max(this.state.answered || 0, message.answered);
    this.state.players = Math.max(this.state.players, message.players);
    return true;
  };
  Game.prototype.secondsLeft = function () {
    return this.deadline === null ? 0 : Math.max(0, (this.deadline - Date.now()) / 1000);
  };

  function countdown(game, timerEl, barEl, onZero) {
    var handle = null;
    function tick() {
      var state = game.state;
      if (!state || state.phase !== "question") { clearInterval(handle); return; }
      var left = game.secondsLeft();
      timerEl.textContent = left > 0 ? Math.ceil(left) + "s" : "time's up";
      timerEl.className = "timer" + (left < 5 ? " urgent" : "");
      barEl.style.width = (100 * left / state.question.time_limit) + "%";
      if (left <= 0) { clearInterval(handle); if (onZero) onZero(); }
    }
    return function restart() { clearInterval(handle); tick(); handle = setInterval(tick, 100); };
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function renderPodium(listEl, podium) {
    var places = ["first", "second", "third"];
    listEl.replaceChildren.apply(listEl, (podium || []).map(function (entry, i) {
      var li = el("li", "place " + places[i]);
      li.append(el("span", "medal", String(i + 1)), el("span", "name", entry.nickname),
                el("span", "score", entry.score));
      return li;
    }));
  }

  function phaseLabel(state) {
    if (state.phase === "question") return "question " + state.number + " of " + state.total;
    if (state.phase === "reveal") return "answer " + state.number + " of " + state.total;
    return state.phase;
  }

  window.QuizGame = { Game: Game, countdown: countdown, el: el, renderPodium: renderPodium,
                      phaseLabel: phaseLabel };
})();
