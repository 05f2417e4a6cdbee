/* The status page: each grader pool's public figures (graders online and their capacity, jobs
 * queued, running and retrying, retries and dead letters in the last hour, how long the oldest
 * queued job has waited) and a chart of jobs finished per minute over the last hour. */
"use strict";

(function () {
  const { el, clear, connect, call, formatAge, setText, showConnection } = window.crowdai;
  const REFRESH_MS = 5000;
  const SVG = "http://www.w3.org/2000/svg";
  const socket = connect();
  showConnection(socket);
  let timer = null;

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  /* 60 bars, oldest on the left; the tallest bar is the chart's height. */
  function chart(perMinute) {
    const total = perMinute.reduce((a, b) => a + b, 0);
    const max = Math.max(1, ...perMinute);
    const width = 300, height = 60, bar = width / perMinute.length;
    const label = `Jobs finished per minute over the last hour: ${total} in all, at most ${Math.max(0, ...perMinute)} in one minute.`;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label,
                              class: "chart", preserveAspectRatio: "none" });
    const title = svg("title", {});
    title.textContent = label;
    root.append(title);
    root.append(svg("line", { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: "axis" }));
    perMinute.forEach((n, i) => {
      if (n === 0) return;
      const h = Math.max(1, (n / max) * (height - 2));
      root.append(svg("rect", { x: i * bar + 0.5, y: height - h, width: Math.max(1, bar - 1),
                                height: h, class: "bar", "data-minute": i, "data-count": n }));
    });
    return root;
  }

  function figure(label, value, name) {
    return el("div", { className: "figure" },
      el("dt", {}, label), el("dd", { "data-figure": name }, String(value)));
  }

  function onlineText(p) {
    if (p.graders_online > 0)
      return `${p.graders_online} grader${p.graders_online === 1 ? "" : "s"} online, capacity ${p.capacity}`;
    if (p.gen2_bridge) return "Graded by crowdAI Gen-2 graders through the broker's bridge.";
    return "No grader online: submissions wait in the queue.";
  }

  function poolCard(p) {
    const online = p.graders_online > 0 || p.gen2_bridge;
    return el("section", { className: "card pool", "data-pool": p.pool, "aria-label": `Pool ${p.pool}` },
      el("h2", {}, p.pool),
      el("p", { className: "muted" }, p.challenges.length ? `Grades ${p.challenges.join(", ")}` : ""),
      el("p", { className: online ? "ok" : "warning", "data-figure": "online" }, onlineText(p)),
      el("dl", { className: "figures" },
        figure("Graders online", p.graders_online, "graders_online"),
        figure("Capacity", p.capacity, "capacity"),
        figure("Queued", p.queued, "queued"),
        figure("Running", p.running, "running"),
        figure("Waiting to retry", p.retrying, "retrying"),
        figure("Retried (last hour)", p.retried_last_hour, "retried_last_hour"),
        figure("Dead-lettered (last hour)", p.dead_lettered_last_hour, "dead_lettered_last_hour"),
        figure("Finished (last hour)", p.finished_last_hour, "finished_last_hour"),
        figure("Oldest queued job waiting", formatAge(p.oldest_queued_seconds), "oldest_queued")),
      el("h3", {}, "Finished per minute, last hour"),
      chart(p.finished_per_minute),
      el("p", { className: "chart-axis", "aria-hidden": "true" }, el("span", {}, "60 min ago"), el("span", {}, "now")));
  }

  async function refresh() {
    try {
      const reply = await call(socket, "queue_status", {});
      const pools = document.getElementById("pools");
      clear(pools);
      if (reply.pools.length === 0) pools.append(el("p", { className: "muted" }, "No grader pools yet."));
      for (const p of reply.pools) pools.append(poolCard(p));
      setText("status-updated", new Date(reply.at).toLocaleTimeString());
      setText("load-error", "");
    } catch (e) {
      setText("load-error", e.message);
    }
  }

  socket.on("connect", () => {
    refresh();
    if (timer === null) timer = setInterval(() => { if (socket.connected) refresh(); }, REFRESH_MS);
  });
})();
