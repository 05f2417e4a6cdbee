/* The submission page: sign in with an API key (only the session the broker gives back is kept,
 * in this tab's sessionStorage), upload a file with a progress bar, submit it, and watch the
 * grading live. The submission being watched and the last event seen are remembered, so a
 * reload replays its events from the start and a reconnect asks only for what it missed: each
 * event is shown once, in order (events carry a seq; anything not newer is ignored). */
"use strict";

(function () {
  const { el, clear, connect, call, formatScore, formatTime, setText, showConnection,
          challengeFromPath } = window.crowdai;
  const challengeId = challengeFromPath();
  const SESSION_KEY = `crowdai.session.${challengeId}`;
  const WATCH_KEY = `crowdai.watching.${challengeId}`;
  const POSITION_POLL_MS = 5000;
  const UPLOAD_TIMEOUT_MS = 60 * 60 * 1000;
  const MAX_EVENT_LINES = 500;
  const FINAL = new Set(["COMPLETE", "ERROR", "TIMEOUT", "CANCELLED"]);
  const SESSION_CODES = new Set(["NO_SESSION", "BAD_SESSION", "SESSION_EXPIRED", "SESSION_REVOKED"]);
  const STATE_WORDS = { QUEUED: "Queued", RUNNING: "Being graded", COMPLETE: "Complete",
                        ERROR: "Failed", TIMEOUT: "Timed out", CANCELLED: "Cancelled" };

  let session = loadSession();
  let challenge = null;
  let watching = null; /* {id, lastSeq, state} */
  let positionTimer = null;

  const socket = connect();
  showConnection(socket);

  function loadSession() {
    try {
      const s = JSON.parse(sessionStorage.getItem(SESSION_KEY));
      return s && typeof s.token === "string" ? s : null;
    } catch (e) {
      return null;
    }
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function scoreText(score, secondary) {
    const precision = challenge ? challenge.precision : 3;
    let text = `${(challenge && challenge.primary_name) || "Score"} ${formatScore(score, precision)}`;
    if (typeof secondary === "number")
      text += ` · ${(challenge && challenge.secondary_name) || "secondary"} ${formatScore(secondary, precision)}`;
    return text;
  }

  /* ---- signing in and out ---- */

  function showSignedIn() {
    document.getElementById("signin").hidden = true;
    document.getElementById("account").hidden = false;
    document.getElementById("mine").hidden = false;
    setText("participant-name", session.participant.name);
  }

  function signOut(message) {
    session = null;
    watching = null;
    stopPositionPoll();
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.removeItem(WATCH_KEY);
    document.getElementById("signin").hidden = false;
    for (const id of ["account", "live", "mine"]) document.getElementById(id).hidden = true;
    setText("signin-error", message || "");
  }

  /* A call with the session token; a refused session signs out with the broker's words. */
  async function sessionCall(event, args) {
    try {
      return await call(socket, event, Object.assign({ session_token: session.token }, args));
    } catch (e) {
      if (SESSION_CODES.has(e.code)) signOut(e.message);
      throw e;
    }
  }

  async function signIn(event) {
    event.preventDefault();
    const input = document.getElementById("api-key");
    const key = input.value.trim();
    input.value = "";
    setText("signin-error", "");
    if (!key) return;
    try {
      const reply = await call(socket, "authenticate",
                               { api_key: key, challenge_id: challengeId, client_version: "web" });
      session = { token: reply.session_token, expires_at: reply.expires_at,
                  participant: reply.participant };
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
      showSignedIn();
      refreshMine();
    } catch (e) {
      setText("signin-error", e.message);
    }
  }

  /* ---- upload and submit ---- */

  function upload(file) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const bar = document.getElementById("upload-progress");
      xhr.open("PUT", `/upload?name=${encodeURIComponent(file.name)}`);
      xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
      xhr.timeout = UPLOAD_TIMEOUT_MS;
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        const percent = Math.floor((e.loaded / e.total) * 100);
        bar.value = percent;
        setText("upload-text", `${percent}% of ${file.size} bytes`);
      };
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status === 200 && body && body.ok) {
          bar.value = 100;
          setText("upload-text", `Uploaded ${body.size} bytes`);
          resolve(body.file_key);
        } else {
          const err = new Error((body && body.message) || `The upload failed (HTTP ${xhr.status}).`);
          err.code = body && body.code;
          reject(err);
        }
      };
      xhr.onerror = () => reject(new Error("The upload failed: the connection was lost. Try again."));
      xhr.ontimeout = () => reject(new Error("The upload took too long and was stopped. Try again."));
      xhr.send(file);
    });
  }

  async function submit(event) {
    event.preventDefault();
    const file = document.getElementById("file").files[0];
    const button = document.getElementById("submit-button");
    setText("submit-error", "");
    if (!file) return;
    button.disabled = true;
    document.getElementById("upload").hidden = false;
    try {
      let fileKey;
      try {
        fileKey = await upload(file);
      } catch (e) {
        if (SESSION_CODES.has(e.code)) signOut(e.message);
        throw e;
      }
      const reply = await sessionCall("submit", {
        challenge_id: challengeId,
        client_submission_id: randomId(),
        file_key: fileKey,
        description: document.getElementById("description").value,
      });
      document.getElementById("submit-form").reset();
      if (typeof reply.submissions_remaining === "number")
        setText("upload-text", `Submitted. ${reply.submissions_remaining} submission(s) left in this period.`);
      startWatch(reply.submission_id, true);
      refreshMine();
    } catch (e) {
      setText("submit-error", e.message);
    } finally {
      button.disabled = false;
    }
  }

  /* ---- the live view ---- */

  function resetLive(id) {
    document.getElementById("live").hidden = false;
    setText("live-id", `#${id}`);
    setText("live-state", "…");
    setText("live-position", "");
    setText("live-result", "");
    setText("live-percent", "");
    document.getElementById("live-waiting").hidden = true;
    document.getElementById("live-progress").value = 0;
    document.getElementById("cancel-button").hidden = false;
    clear(document.getElementById("live-events"));
  }

  function setState(state) {
    watching.state = state;
    setText("live-state", STATE_WORDS[state] || state);
    const final = FINAL.has(state);
    document.getElementById("cancel-button").hidden = final;
    if (state !== "QUEUED") {
      setText("live-position", "");
      stopPositionPoll();
    }
    if (final) {
      document.getElementById("live-waiting").hidden = true;
      refreshMine();
    }
  }

  function showPosition(position) {
    if (typeof position !== "number") return;
    setText("live-position", position === 0 ? "Next in line for a grader."
                                             : `${position} submission(s) ahead of yours in the queue.`);
  }

  function eventLine(ev) {
    const words = { ENQUEUED: "Queued", WAITING: "Waiting for a grader", RUNNING: "Grading started",
                    PROGRESS_UPDATE: "Progress", INFO: "Info", COMPLETE: "Complete",
                    ERROR: "Failed", TIMEOUT: "Timed out", CANCELLED: "Cancelled" };
    let text = words[ev.type] || ev.type;
    if (ev.type === "PROGRESS_UPDATE" && typeof ev.percent === "number") text += ` ${ev.percent}%`;
    if (ev.message) text += `: ${ev.message}`;
    const list = document.getElementById("live-events");
    list.append(el("li", { "data-seq": ev.seq, "data-type": ev.type },
      el("time", { dateTime: ev.at || "" }, ev.at ? new Date(ev.at).toLocaleTimeString() : ""), " ", text));
    while (list.children.length > MAX_EVENT_LINES) list.removeChild(list.firstChild);
  }

  function applyEvent(ev) {
    eventLine(ev);
    switch (ev.type) {
      case "ENQUEUED":
        setState("QUEUED");
        showPosition(ev.position);
        startPositionPoll();
        break;
      case "WAITING":
        document.getElementById("live-waiting").hidden = false;
        break;
      case "RUNNING":
        document.getElementById("live-waiting").hidden = true;
        setState("RUNNING");
        break;
      case "PROGRESS_UPDATE":
        if (typeof ev.percent === "number") {
          document.getElementById("live-progress").value = ev.percent;
          setText("live-percent", `${ev.percent}%`);
        }
        break;
      case "COMPLETE": {
        const data = ev.data || {};
        document.getElementById("live-progress").value = 100;
        setText("live-percent", "100%");
        setText("live-result", `Score: ${scoreText(data.score, data.score_secondary)}`);
        setState("COMPLETE");
        break;
      }
      case "ERROR":
      case "TIMEOUT":
      case "CANCELLED":
        setText("live-result", ev.message || STATE_WORDS[ev.type]);
        setState(ev.type);
        break;
      default:
        break;
    }
  }

  function onEvent(ev) {
    if (!ev || typeof ev.seq !== "number") return;
    if (!watching || ev.submission_id !== watching.id) {
      if (FINAL.has(ev.type)) refreshMine();
      return;
    }
    if (ev.seq <= watching.lastSeq) return; /* already shown */
    if (ev.seq > watching.lastSeq + 1) {
      /* The broker keeps a submission's latest ~1,000 events; older ones are gone. */
      document.getElementById("live-events").append(
        el("li", { className: "muted", "data-gap": ev.seq - watching.lastSeq - 1 },
           `${ev.seq - watching.lastSeq - 1} earlier message(s) are no longer kept.`));
    }
    watching.lastSeq = ev.seq;
    applyEvent(ev);
  }

  /* Starts (fresh: from the first event, on an empty view) or resumes watching id. */
  async function startWatch(id, fresh) {
    if (fresh || !watching || watching.id !== id) {
      watching = { id, lastSeq: 0, state: null };
      resetLive(id);
      sessionStorage.setItem(WATCH_KEY, String(id));
    }
    try {
      const reply = await sessionCall("watch", { submission_id: id, after_seq: watching.lastSeq });
      if (watching && watching.id === id && watching.state === null) setState(reply.state);
      if (reply.state === "QUEUED") startPositionPoll();
    } catch (e) {
      if (e.code === "NOT_FOUND") {
        sessionStorage.removeItem(WATCH_KEY);
        document.getElementById("live").hidden = true;
        watching = null;
      }
      setText("submit-error", e.message);
    }
  }

  function stopPositionPoll() {
    if (positionTimer !== null) clearInterval(positionTimer);
    positionTimer = null;
  }

  function startPositionPoll() {
    if (positionTimer !== null) return;
    positionTimer = setInterval(async () => {
      if (!watching || watching.state !== "QUEUED" || !socket.connected) return;
      try {
        const reply = await sessionCall("status", { submission_id: watching.id });
        if (watching && reply.submission_id === watching.id && watching.state === "QUEUED")
          showPosition(reply.position);
      } catch (e) {
        /* shown by the next poll or event */
      }
    }, POSITION_POLL_MS);
  }

  async function cancel() {
    if (!watching) return;
    try {
      await sessionCall("cancel", { submission_id: watching.id });
    } catch (e) {
      setText("submit-error", e.message);
    }
  }

  /* ---- the participant's own submissions ---- */

  async function refreshMine() {
    if (!session) return;
    try {
      const reply = await sessionCall("my_submissions", {});
      const body = document.getElementById("mine-rows");
      const precision = challenge ? challenge.precision : 3;
      const secondary = !!(challenge && challenge.secondary_name);
      clear(body);
      for (const s of reply.submissions) {
        const watchButton = el("button", { type: "button", className: "link",
                                           "aria-label": `Watch submission ${s.submission_id}` },
                               `#${s.submission_id}`);
        watchButton.addEventListener("click", () => startWatch(s.submission_id, true));
        const cells = [el("td", {}, watchButton), el("td", {}, STATE_WORDS[s.state] || s.state),
                       el("td", { className: "num" }, formatScore(s.score, precision))];
        if (secondary) cells.push(el("td", { className: "num" }, formatScore(s.score_secondary, precision)));
        cells.push(el("td", {}, formatTime(s.created_at)), el("td", {}, s.message || ""));
        body.append(el("tr", { "data-submission": s.submission_id, "data-state": s.state }, ...cells));
      }
      document.getElementById("mine-secondary-head").hidden = !secondary;
      document.getElementById("mine-empty").hidden = reply.submissions.length > 0;
    } catch (e) {
      /* a session problem already signed out; others show on the next refresh */
    }
  }

  /* ---- start ---- */

  if (!challengeId) {
    setText("signin-error", "This address names no challenge.");
    return;
  }
  document.getElementById("board-link").href = `/challenges/${challengeId}`;
  document.getElementById("signin-form").addEventListener("submit", signIn);
  document.getElementById("submit-form").addEventListener("submit", submit);
  document.getElementById("signout-button").addEventListener("click", () => signOut(""));
  document.getElementById("cancel-button").addEventListener("click", cancel);
  socket.on("submission_event", onEvent);

  socket.on("connect", async () => {
    try {
      const reply = await call(socket, "challenge", { challenge_id: challengeId });
      challenge = reply.challenge;
      setText("title", `Submit to ${challenge.title}`);
      document.title = `Submit · ${challenge.title}`;
      setText("mine-primary-head", challenge.primary_name || "Score");
      if (challenge.secondary_name) setText("mine-secondary-head", challenge.secondary_name);
    } catch (e) {
      setText("signin-error", e.message);
    }
    if (!session) return;
    if (session.expires_at && new Date(session.expires_at).getTime() <= Date.now()) {
      signOut("Your session has ended. Sign in again.");
      return;
    }
    showSignedIn();
    refreshMine();
    /* After a reconnect: what was missed. After a reload: everything, on an empty view. */
    if (watching) {
      startWatch(watching.id, false);
    } else {
      const stored = Number(sessionStorage.getItem(WATCH_KEY));
      if (Number.isInteger(stored) && stored > 0) startWatch(stored, true);
    }
  });
})();
