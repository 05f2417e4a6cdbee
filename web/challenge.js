/* A challenge's leaderboard, live: the page follows the leaderboard and asks for it again each
 * time the broker says a score landed (and after a reconnect, when it may have missed one). */
"use strict";

(function () {
  const { el, clear, connect, call, formatScore, formatTime, safeLink, sortWords, setText,
          showConnection, challengeFromPath } = window.crowdai;
  const challengeId = challengeFromPath();
  let challenge = null;
  let refreshing = false;
  let again = false;

  const socket = connect();
  showConnection(socket);

  function showChallenge(c) {
    challenge = c;
    document.title = `${c.title} · Leaderboard`;
    setText("title", c.title);
    setText("primary-head", `${c.primary_name || "Score"} (${sortWords(c.primary_sort)})`);
    const secondary = document.getElementById("secondary-head");
    secondary.hidden = !c.secondary_name;
    if (c.secondary_name) secondary.textContent = `${c.secondary_name} (${sortWords(c.secondary_sort)})`;
  }

  function row(r) {
    const precision = challenge ? challenge.precision : 3;
    const cells = [
      el("td", {}, String(r.rank)),
      el("td", { className: "participant" }, r.participant),
      el("td", { className: "num" }, formatScore(r.score, precision)),
    ];
    if (challenge && challenge.secondary_name)
      cells.push(el("td", { className: "num" }, formatScore(r.score_secondary, precision)));
    cells.push(el("td", { className: "num" }, String(r.submissions)));
    cells.push(el("td", {}, formatTime(r.best_at)));
    cells.push(el("td", {}, r.code ? safeLink(r.code.url, r.code.branch || "code") : "—"));
    return el("tr", { "data-participant": r.participant }, ...cells);
  }

  function showBoard(rows) {
    const body = document.getElementById("board-rows");
    clear(body);
    for (const r of rows) body.append(row(r));
    document.getElementById("board-empty").hidden = rows.length > 0;
    setText("board-updated", `(updated ${new Date().toLocaleTimeString()})`);
  }

  /* One leaderboard request at a time; a change during one asks for another after it. */
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      do {
        again = false;
        const reply = await call(socket, "leaderboard", { challenge_id: challengeId });
        showBoard(reply.rows);
      } while (again);
      setText("load-error", "");
    } catch (e) {
      setText("load-error", e.message);
    } finally {
      refreshing = false;
    }
  }

  if (!challengeId) {
    setText("load-error", "This address names no challenge.");
    return;
  }
  document.getElementById("submit-link").href = `/challenges/${challengeId}/submit`;

  socket.on("leaderboard_changed", (msg) => {
    if (msg && msg.challenge_id === challengeId) refresh();
  });
  socket.on("connect", async () => {
    try {
      const reply = await call(socket, "challenge", { challenge_id: challengeId });
      showChallenge(reply.challenge);
      await call(socket, "leaderboard_follow", { challenge_id: challengeId });
      await refresh();
    } catch (e) {
      setText("load-error", e.message);
    }
  });
})();
