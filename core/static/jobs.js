// The job page: polls the job's JSON state and updates the bar, the message and the outcome
// without reloading. A local file (no inline script): the Content-Security-Policy stays strict.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-progress]");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("[data-job-bar]");
  var message = box.querySelector("[data-job-message]");
  var badge = box.querySelector("[data-job-status-badge]");
  var outcome = box.querySelector("[data-job-outcome]");
  var link = box.querySelector("[data-job-link]");
  var download = box.querySelector("[data-job-download]");
  var cancel = box.querySelector("[data-job-cancel]");
  var words = {queued: "Waiting", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled"};
  var colours = {queued: "secondary", running: "primary", done: "success", failed: "danger", cancelled: "warning"};
  var delay = 700;

  function show(element, visible) {
    if (element) { element.classList.toggle("d-none", !visible); }
  }

  function alertBox(kind, text, strong) {
    var div = document.createElement("div");
    div.className = "alert alert-" + kind + " mb-2";
    div.setAttribute("role", kind === "danger" ? "alert" : "status");
    if (strong) {
      var b = document.createElement("strong");
      b.textContent = strong + " ";
      div.appendChild(b);
    }
    div.appendChild(document.createTextNode(text));
    outcome.replaceChildren(div);
  }

  function update(job) {
    box.setAttribute("data-status", job.status);
    badge.textContent = words[job.status] || job.status;
    badge.className = "badge text-bg-" + (colours[job.status] || "secondary");
    if (job.percent === null || job.percent === undefined) {
      bar.removeAttribute("value");
    } else {
      bar.value = job.percent;
      bar.textContent = job.percent + " %";
    }
    if (job.status === "queued") {
      message.textContent = "Waiting for a worker…" + (job.error ? " " + job.error : "");
    } else if (job.status === "running") {
      message.textContent = (job.message || "Working…") +
        (job.total ? " — " + job.done + " of " + job.total : "");
    } else {
      message.textContent = "";
    }
    if (job.status === "done") { alertBox("success", job.summary); }
    if (job.status === "failed") { alertBox("danger", job.error, "Failed:"); }
    if (job.status === "cancelled") { alertBox("warning", job.error || "Cancelled."); }
    if (link && job.link) { link.setAttribute("href", job.link); }
    show(link, job.status === "done" && !!job.link);
    show(download, job.status === "done" && !!job.download);
    show(cancel, !job.finished && job.may_cancel);
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (job) {
        update(job);
        if (job.finished) {
          box.setAttribute("data-finished", "true");
          if (job.follow && job.link) { window.location.assign(job.link); }
          return;
        }
        delay = Math.min(delay * 1.1, 2000);
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        // The server restarting or the network gone for a moment: try again, more slowly.
        delay = Math.min(delay * 2, 10000);
        window.setTimeout(poll, delay);
      });
  }

  if (box.getAttribute("data-finished") !== "true") {
    window.setTimeout(poll, 300);
  }
})();
