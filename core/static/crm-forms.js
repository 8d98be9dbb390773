/* The core's form helpers, for every page (no inline script: the CSP forbids it).
 *
 * 1. Pickers: every <select data-picker="MODEL"> becomes a searchable, keyboard-friendly picker
 *    (Tom Select) that asks GET /api/v1/lookup/MODEL?q=... as the user types. Optional attributes:
 *    data-picker-url (the lookup URL), data-picker-params ("client_id=12&x=y", fixed filters),
 *    data-picker-follow ("client_id": the value of that form field is sent as that filter, and
 *    changing it empties this picker).
 * 2. Rows: in a [data-rows] table, a button [data-row-add] clones the <template data-row-template>
 *    (replacing __index__ by a new index), a button [data-row-remove] removes its row.
 * 3. Switched parts: an element with data-switch="FIELD" data-switch-value="VALUE" is shown, and
 *    its controls enabled, only while the form field FIELD has that value.
 */
(function () {
  "use strict";

  function escapeText(escape, text) {
    return text ? escape(text) : "";
  }

  function lookupUrl(select) {
    return select.dataset.pickerUrl || "/api/v1/lookup/" + encodeURIComponent(select.dataset.picker);
  }

  function queryParams(select, query) {
    var params = new URLSearchParams(select.dataset.pickerParams || "");
    params.set("q", query || "");
    var follow = select.dataset.pickerFollow;
    if (follow && select.form) {
      var other = select.form.elements.namedItem(follow);
      if (other && other.value) {
        params.set(follow, other.value);
      }
    }
    return params.toString();
  }

  // A question Tom Select asked that gets no answer: only its count of answers awaited is
  // brought down, as its own callback would.
  function unanswered(picker) {
    picker.loading = Math.max(picker.loading - 1, 0);
    if (!picker.loading) {
      picker.wrapper.classList.remove(picker.settings.loadingClass);
    }
  }

  function upgradePicker(select) {
    if (select.tomselect || typeof TomSelect === "undefined") {
      return;
    }
    var multiple = select.multiple;
    var plugins = multiple ? ["remove_button"] : [];
    if (!multiple && !select.required) {
      plugins.push("clear_button");
    }
    var found = {}; // the ids of the server's last answer
    var requests = 0;
    var picker = new TomSelect(select, {
      valueField: "id",
      labelField: "label",
      searchField: ["label", "detail"],
      plugins: plugins,
      create: false,
      preload: "focus",
      loadThrottle: 250,
      maxOptions: 50,
      closeAfterSelect: !multiple,
      onItemAdd: function () {
        // The letters typed found what was chosen: the next choice starts from an empty search,
        // and answers still on their way were to letters before the choice.
        this.setTextboxValue("");
        requests++;
      },
      selectOnTab: true,
      placeholder: select.dataset.placeholder || "Type to search…",
      // No side effect here: Tom Select asks it at every redraw of the list too, and a redraw
      // after the answer was in (the late answer to an older question, a key) then emptied the
      // list just shown. The previous answer is dropped when the text changes ("input" below).
      shouldLoad: function () {
        return true;
      },
      // The server decides what matches (it may search columns it does not show, and applies
      // the record rules): the options of its last answer are shown as they are, and only them.
      score: function () {
        return function (item) {
          return found[String(item.id)] ? 1 : 0;
        };
      },
      load: function (query, callback) {
        var self = this;
        // Tom Select asks a moment after the last key; a choice made meanwhile (in a list shown
        // by then) empties the text: those letters are no longer asked for.
        if (query !== self.inputValue()) {
          unanswered(self);
          return;
        }
        var ticket = ++requests;
        var follow = select.dataset.pickerFollow;
        var other = follow && select.form ? select.form.elements.namedItem(follow) : null;
        if (other && !other.value) {
          found = {};
          callback([]);
          return;
        }
        fetch(lookupUrl(select) + "?" + queryParams(select, query), {
          headers: { Accept: "application/json" },
          credentials: "same-origin"
        })
          .then(function (response) {
            return response.ok ? response.json() : { items: [] };
          })
          .then(function (body) {
            if (ticket !== requests || query !== self.inputValue()) {
              // An older answer, arriving after a newer question or a choice: not shown, and not
              // handed to Tom Select either, which redraws the list at every answer and opens it
              // again (after a choice, the list the user had closed by choosing).
              unanswered(self);
              return;
            }
            var items = body.items || [];
            found = {};
            items.forEach(function (item) {
              found[String(item.id)] = true;
            });
            self.clearOptions();
            callback(items);
          })
          .catch(function () {
            callback();
          });
      },
      render: {
        option: function (data, escape) {
          var detail = data.detail ? ' <small class="text-body-secondary">' + escape(data.detail) + "</small>" : "";
          return "<div>" + escapeText(escape, data.label) + detail + "</div>";
        },
        item: function (data, escape) {
          return "<div>" + escapeText(escape, data.label) + "</div>";
        },
        no_results: function () {
          var follow = select.dataset.pickerFollow;
          var other = follow && select.form ? select.form.elements.namedItem(follow) : null;
          var text = other && !other.value ? "Choose the " + follow.replace(/_id$/, "").replace(/_/g, " ") + " first." : "Nothing found: try other letters.";
          return '<div class="no-results">' + text + "</div>";
        },
        loading: function () {
          return '<div class="option-loading px-2 py-1 text-body-secondary">Searching…</div>';
        }
      }
    });
    // As soon as a letter is typed the options on show are those of the previous text: none is
    // highlighted until the server's answer to the new text arrives, so Enter cannot take one.
    picker.control_input.addEventListener("input", function () {
      found = {};
      picker.clearActiveOption();
    });
    // Enter while the list is open but nothing is highlighted yet (the answer is on its way)
    // must not send the form: a keyboard user is choosing.
    picker.control_input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && picker.isOpen && !picker.activeOption) {
        event.preventDefault();
      }
    });
    var follow = select.dataset.pickerFollow;
    if (follow && select.form) {
      var other = select.form.elements.namedItem(follow);
      if (other && other.addEventListener) {
        other.addEventListener("change", function () {
          picker.clear();
          picker.clearOptions();
          picker.wrapper.classList.remove("preloaded");
        });
      }
    }
  }

  function addRow(button) {
    var table = button.closest("[data-rows]");
    var template = table && table.querySelector("template[data-row-template]");
    var body = table && table.querySelector("tbody");
    if (!template || !body) {
      return;
    }
    var next = Number(table.dataset.nextIndex || body.children.length);
    table.dataset.nextIndex = String(next + 1);
    var html = template.innerHTML.replace(/__index__/g, String(next));
    body.insertAdjacentHTML("beforeend", html);
    var row = body.lastElementChild;
    row.querySelectorAll("select[data-picker]").forEach(upgradePicker);
    var first = row.querySelector("input, select, textarea");
    if (first) {
      first.focus();
    }
  }

  function removeRow(button) {
    var row = button.closest("tr");
    var table = button.closest("[data-rows]");
    if (!row) {
      return;
    }
    row.remove();
    var add = table && table.querySelector("[data-row-add]");
    if (add) {
      add.focus();
    }
  }

  function applySwitches(form) {
    form.querySelectorAll("[data-switch]").forEach(function (part) {
      var field = form.elements.namedItem(part.dataset.switch);
      var on = field && field.value === part.dataset.switchValue;
      part.hidden = !on;
      if ("disabled" in part) {
        part.disabled = !on;
      }
    });
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-row-add]");
    if (add) {
      event.preventDefault();
      addRow(add);
      return;
    }
    var remove = event.target.closest("[data-row-remove]");
    if (remove) {
      event.preventDefault();
      removeRow(remove);
    }
  });

  function start() {
    document.querySelectorAll("select[data-picker]").forEach(upgradePicker);
    document.querySelectorAll("form").forEach(function (form) {
      if (!form.querySelector("[data-switch]")) {
        return;
      }
      applySwitches(form);
      form.addEventListener("change", function () {
        applySwitches(form);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
