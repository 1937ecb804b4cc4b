/* Shared by the player and the big board: a reconnecting websocket and the leaderboard list. */
(function () {
  "use strict";

  // onOpen(socket) runs on every (re)connection: a hosted player says hello there.
  function connect(url, onMessage, liveEl, onOpen) {
    var attempt = 0, socket = null, stopped = false;

    function setLive(on) {
      if (!liveEl) return;
      liveEl.textContent = on ? "live" : "reconnecting…";
      liveEl.className = "live " + (on ? "on" : "off");
    }

    function open() {
      socket = new WebSocket(url);
      socket.onopen = function () {
        attempt = 0;
        setLive(true);
        if (onOpen) onOpen(socket);
      };
      socket.onmessage = function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        onMessage(message);
      };
      socket.onclose = function (event) {
        setLive(false);
        if (stopped || event.code === 4404) {
          if (liveEl && event.code === 4404) liveEl.textContent = "unknown quiz";
          return;
        }
        // Exponential backoff with jitter: a restarted server is not hit by everyone at once.
        var delay = Math.min(10000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
        setTimeout(open, delay);
      };
    }

    open();
    return {
      stop: function () { stopped = true; if (socket) socket.close(); },
      // For tests and tools: drop the connection as a network failure would (it reconnects).
      drop: function () { if (socket) socket.close(); }
    };
  }

  function renderBoard(listEl, entries, myNickname) {
    var items = entries.map(function (entry) {
      var li = document.createElement("li");
      if (myNickname && entry.nickname.toLowerCase() === myNickname.toLowerCase()) {
        li.className = "mine";
      }
      var rank = document.createElement("span");
      rank.className = "rank";
      rank.textContent = entry.rank;
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = entry.nickname;
      var answered = document.createElement("span");
      answered.className = "answered";
      answered.textContent = entry.answered + " answered";
      var score = document.createElement("span");
      score.className = "score";
      score.textContent = entry.score;
      li.append(rank, name, answered, score);
      return li;
    });
    listEl.replaceChildren.apply(listEl, items);
    if (!entries.length) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "Nobody yet. Be the first!";
      listEl.replaceChildren(empty);
    }
  }

  window.QuizLive = { connect: connect, renderBoard: renderBoard };
})();
