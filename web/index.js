/* The list of challenges: each with links to its leaderboard and its submission page. */
"use strict";

(function () {
  const { el, clear, connect, call, showConnection, setText } = window.crowdai;
  const socket = connect();
  showConnection(socket);

  function render(challenges) {
    const list = document.getElementById("challenges");
    clear(list);
    if (challenges.length === 0) list.append(el("li", { className: "muted" }, "No challenges yet."));
    for (const c of challenges) {
      const base = `/challenges/${encodeURIComponent(c.id)}`;
      list.append(el("li", { className: "card" },
        el("h2", {}, el("a", { href: base }, c.title || c.id)),
        el("p", { className: "muted" }, `Scored by ${c.primary_name || "score"}`),
        el("p", {}, el("a", { href: base }, "Leaderboard"), " · ",
          el("a", { href: `${base}/submit` }, "Submit"))));
    }
  }

  socket.on("connect", () => {
    call(socket, "challenges", {})
      .then((reply) => { setText("load-error", ""); render(reply.challenges); })
      .catch((e) => setText("load-error", e.message));
  });
})();
