// crm_tasks board: drag a card to another column to move the task through its workflow.
// The server decides: the card moves only if the JSON API accepts the transition; a refusal is
// shown as is. Moving to "rejected" needs the client's reason, so it opens the task's form.
(function () {
  "use strict";
  var board = document.querySelector(".crm-tasks-board");
  if (!board) { return; }
  var csrf = board.getAttribute("data-csrf");
  var api = board.getAttribute("data-api");
  var dragged = null;

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest(".crm-tasks-card");
    if (!card) { return; }
    dragged = card;
    card.classList.add("crm-tasks-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-task"));
  });

  board.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("crm-tasks-dragging"); }
    board.querySelectorAll(".crm-tasks-target").forEach(function (c) {
      c.classList.remove("crm-tasks-target");
    });
    dragged = null;
  });

  function allowedTo(column) {
    if (!dragged || !column) { return false; }
    var allowed = (dragged.getAttribute("data-allowed") || "").split(" ");
    return allowed.indexOf(column.getAttribute("data-status")) !== -1;
  }

  board.addEventListener("dragover", function (event) {
    var column = event.target.closest(".crm-tasks-column");
    if (allowedTo(column)) {
      event.preventDefault();
      column.classList.add("crm-tasks-target");
    }
  });

  board.addEventListener("dragleave", function (event) {
    var column = event.target.closest(".crm-tasks-column");
    if (column && !column.contains(event.relatedTarget)) {
      column.classList.remove("crm-tasks-target");
    }
  });

  board.addEventListener("drop", function (event) {
    var column = event.target.closest(".crm-tasks-column");
    if (!allowedTo(column)) { return; }
    event.preventDefault();
    var card = dragged;
    var to = column.getAttribute("data-status");
    if (to === "rejected") {
      window.location.href = card.getAttribute("data-url") + "#transition";
      return;
    }
    fetch(api + "/" + card.getAttribute("data-task") + "/transitions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ to: to, version: Number(card.getAttribute("data-version")) })
    }).then(function (response) {
      if (response.ok) {
        window.location.reload();
        return null;
      }
      return response.json().then(function (body) {
        var errors = (body && body.errors) || {};
        var messages = [];
        Object.keys(errors).forEach(function (field) { messages = messages.concat(errors[field]); });
        window.alert(messages.join("\n") || "The task could not be moved.");
      });
    }).catch(function () {
      window.alert("The task could not be moved: no connection to the server.");
    });
  });
})();
