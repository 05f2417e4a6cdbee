/* What every page of the broker shares: building DOM nodes (text only, never HTML: names and
 * messages come from participants and graders), the Socket.IO connection to the broker, calls
 * that expect an ack with a timeout, and formatting of scores and times. */
"use strict";

window.crowdai = (function () {
  const CALL_TIMEOUT_MS = 15000;

  /* el("td", {className: "x"}, "text", otherNode): attributes are set as properties or with
   * setAttribute (for aria-* and data-*); children are strings (as text) or nodes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null) continue;
      if (key.startsWith("aria-") || key.startsWith("data-") || key === "role" || key === "scope") {
        node.setAttribute(key, String(value));
      } else {
        node[key] = value;
      }
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function setText(id, text) {
    const node = document.getElementById(id);
    if (node) node.textContent = text === undefined || text === null ? "" : String(text);
  }

  /* One Socket.IO connection to the broker that served the page (same origin). */
  function connect() {
    return io({ reconnectionDelayMax: 5000, timeout: 10000 });
  }

  /* Emits event with args and resolves with the ack ({ok:true,...}); rejects with an Error
   * carrying .code on {ok:false} or when no ack came in time. */
  function call(socket, event, args) {
    return new Promise((resolve, reject) => {
      socket.timeout(CALL_TIMEOUT_MS).emit(event, args || {}, (err, reply) => {
        if (err) {
          const e = new Error("The broker did not answer in time. Check your connection and try again.");
          e.code = "TIMEOUT";
          reject(e);
        } else if (!reply || reply.ok !== true) {
          const e = new Error((reply && reply.message) || "The broker refused the request.");
          e.code = (reply && reply.code) || "ERROR";
          e.reply = reply;
          reject(e);
        } else {
          resolve(reply);
        }
      });
    });
  }

  function formatScore(value, precision) {
    if (typeof value !== "number" || !Number.isFinite(value)) return "—";
    const digits = Number.isInteger(precision) && precision >= 0 && precision <= 12 ? precision : 3;
    return value.toFixed(digits);
  }

  function formatTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? "—" : d.toLocaleString();
  }

  function formatAge(seconds) {
    if (typeof seconds !== "number") return "none queued";
    if (seconds < 60) return `${seconds} s`;
    const m = Math.floor(seconds / 60);
    if (m < 60) return `${m} min ${seconds % 60} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  /* The challenge id in /challenges/<id>[/submit], or null. */
  function challengeFromPath() {
    const m = /^\/challenges\/([a-z0-9-]{1,63})(\/submit)?\/?$/.exec(window.location.pathname);
    return m ? m[1] : null;
  }

  /* Only http(s) links are made clickable (a code URL comes from the broker's settings, but a
   * javascript: URL must never become a link whatever its source). */
  function safeLink(url, text) {
    if (typeof url === "string" && /^https?:\/\//i.test(url)) {
      return el("a", { href: url, rel: "noopener noreferrer" }, text);
    }
    return document.createTextNode(text);
  }

  function sortWords(order) {
    return order === "asc" ? "lower is better" : "higher is better";
  }

  /* Shows the connection state in the element with id "connection". */
  function showConnection(socket) {
    const show = (text, cls) => {
      const node = document.getElementById("connection");
      if (!node) return;
      node.textContent = text;
      node.className = cls;
    };
    socket.on("connect", () => show("Live", "conn-ok"));
    socket.on("disconnect", () => show("Connection lost; reconnecting…", "conn-lost"));
    socket.io.on("reconnect_attempt", () => show("Reconnecting…", "conn-lost"));
  }

  return { el, clear, setText, connect, call, formatScore, formatTime, formatAge,
           challengeFromPath, safeLink, sortWords, showConnection };
})();
